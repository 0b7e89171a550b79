//! Steps started by the sandboxed launcher (one bubblewrap sandbox per Kiln
//! process, namespaces per step), driven through the shell runner as the
//! engine drives them: what a step is inside (its own PID and user
//! namespace, uid 65534, no capabilities), exit codes and output, a
//! timeout that reaches the shell although it runs under an init, a
//! process limit that counts each step's own processes, a failed setup
//! reported on the step's stderr, a killed launcher taking its steps,
//! what a step leaves running gone when its end is known, abstract
//! sockets that stay in their step, and steps with and without the
//! network in turn each seeing only their own paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::processes::{comm, descends_from_this_test, environ, parent_of, processes};
use crate::shell_output::{run_collect, text};
use kiln_core::sandbox::Network;
use kiln_server::config::{Config, StepSandbox};
use kiln_server::engine::launcher;
use kiln_server::engine::sandbox::Sandbox;
use kiln_server::engine::shell::{Ending, ShellStep, Stream, run};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A data directory with Kiln's layout and the sandbox it configures.
struct Place {
    _data: tempfile::TempDir,
    work: PathBuf,
    sandbox: Sandbox,
}

fn place(adjust: impl FnOnce(&mut Config)) -> Place {
    launcher::enable(env!("CARGO_BIN_EXE_kiln").into());
    // Not below /tmp, as in production (the server's own tests cover a
    // data directory below /tmp, which each step's fresh /tmp covers).
    let data = tempfile::tempdir_in("/var/tmp").unwrap();
    let work = std::fs::canonicalize(data.path()).unwrap().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut config = Config {
        data_dir: data.path().to_owned(),
        step_sandbox: StepSandbox::Bwrap,
        ..Config::default()
    };
    adjust(&mut config);
    Place {
        _data: data,
        work,
        sandbox: Sandbox::from_config(&config),
    }
}

impl Place {
    /// Step `id`'s shell step running `command`, with its directory and
    /// output file made as the engine makes them.
    fn step(&self, id: i64, command: &str) -> ShellStep {
        let run = self.work.join("1");
        std::fs::create_dir_all(&run).unwrap();
        let workdir = run.join(format!("{id}-1"));
        std::fs::create_dir(&workdir).unwrap();
        let output = run.join(format!("{id}-1.out"));
        std::fs::write(&output, b"").unwrap();
        self.sandbox.hand_over(id, &[&workdir, &output]).unwrap();
        let step = self.sandbox.shell_step(
            id,
            command,
            &workdir,
            &output,
            Network::Host,
            vec![("KILN_TASK".into(), format!("task-{id}"))],
        );
        assert!(
            step.sandboxed.is_some(),
            "started by the sandboxed launcher"
        );
        ShellStep {
            grace: Duration::from_millis(500),
            ..step
        }
    }
}

#[tokio::test]
async fn a_step_has_namespaces_of_its_own() {
    let place = place(|_| {});
    let step = place.step(
        1,
        "echo \"pid $$ uid $(id -u) task $KILN_TASK\"; set -- /proc/[0-9]*; echo $#; \
         grep -cE '^Cap(Inh|Prm|Eff|Amb):[[:space:]]*0*$' /proc/self/status; \
         echo oops >&2; exit 7",
    );
    let (ending, lines) = run_collect(&step, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(7), "{lines:?}");
    let out = text(&lines, Stream::Stdout);
    // Its init is PID 1, the shell 2, and nothing else: the shell counts
    // them itself (a pipeline counted here raced its second process).
    assert_eq!(out[0], "pid 2 uid 65534 task task-1", "{out:?}");
    assert_eq!(out[1], "2", "{out:?}");
    assert_eq!(out[2], "4", "no capabilities of any kind: {out:?}");
    assert_eq!(text(&lines, Stream::Stderr), ["oops"]);
}

#[tokio::test]
async fn a_timeout_reaches_the_shell_under_its_init() {
    let place = place(|_| {});
    // Without an init of its own, a shell that is PID 1 ignores SIGTERM.
    let mut step = place.step(2, "sleep 30 & wait");
    step.timeout = Some(Duration::from_millis(300));
    step.grace = Duration::from_secs(20);
    ends_soon(
        &step,
        CancellationToken::new(),
        Ending::TimedOut,
        "SIGTERM did not stop it",
    )
    .await;
    // One that ignores SIGTERM is killed after the grace.
    let mut stubborn = place.step(3, "trap '' TERM; sleep 30 & wait; sleep 30");
    stubborn.timeout = Some(Duration::from_millis(300));
    let cancel = CancellationToken::new();
    ends_soon(
        &stubborn,
        cancel,
        Ending::TimedOut,
        "SIGKILL did not stop it",
    )
    .await;
}

/// Runs `step` and checks that it ended as `expected` within 10 s (its
/// sleeps last 30).
async fn ends_soon(step: &ShellStep, cancel: CancellationToken, expected: Ending, what: &str) {
    let started = Instant::now();
    let (ending, _) = run_collect(step, cancel).await;
    assert_eq!(ending, expected);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{what}: {:?}",
        started.elapsed()
    );
}

/// What a step leaves running (in a session of its own and deaf to SIGTERM
/// and SIGHUP, or orphaned to the step's init, holding the step's output
/// or not) is gone by the time the step's end is known, and the shell's own exit
/// code is the step's.
#[tokio::test]
async fn what_a_step_leaves_running_is_gone_when_its_end_is_known() {
    let place = place(|_| {});
    let tag = format!("tag-{}", uuid::Uuid::new_v4().simple());
    let mut step = place.step(
        10,
        &format!(
            "export T={tag}; \
             setsid sh -c 'trap \"\" TERM HUP; while :; do echo tick; sleep 0.01; done' & \
             (sh -c 'exec sleep 30' &); (sleep 30 >/dev/null 2>&1 &); sleep 0.2; exit 3"
        ),
    );
    // Output still held by what was left would keep the step until then.
    step.grace = Duration::from_secs(20);
    let with_tag = || processes(|pid| environ(pid).contains(&tag));
    let started = Instant::now();
    let (ending, lines) = run_collect(&step, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(3), "{lines:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(with_tag().is_empty(), "still running: {:?}", with_tag());
    let out = text(&lines, Stream::Stdout);
    assert!(out.iter().all(|line| line == "tick"), "{out:?}");
}

/// Cancelled before its shell exists (its init is still setting up): the
/// stop is kept and reaches the shell, not dropped by the init.
#[tokio::test]
async fn a_stop_before_the_shell_exists_reaches_it() {
    let place = place(|_| {});
    let mut step = place.step(9, "sleep 30");
    step.grace = Duration::from_secs(20);
    let cancel = CancellationToken::new();
    cancel.cancel();
    ends_soon(
        &step,
        cancel,
        Ending::Cancelled,
        "the early SIGTERM was lost",
    )
    .await;
}

#[tokio::test]
async fn network_none_leaves_only_its_own_loopback() {
    let place = place(|_| {});
    let mut step = place.step(
        10,
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; \
         python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(); \
         c = socket.create_connection(s.getsockname()); print(\"loopback works\")'",
    );
    if let Some(sandboxed) = step.sandboxed.as_mut() {
        sandboxed.isolation.network = Network::None;
    }
    let (ending, lines) = run_collect(&step, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0), "{lines:?}");
    let out = text(&lines, Stream::Stdout);
    assert_eq!(out, ["lo", "loopback works"]);
}

/// Steps of one launcher, with and without the network, in turn: each
/// sees only its own paths of the run's directory, though every earlier
/// step's are there; the host's network is one, each offline step's its own.
#[tokio::test]
async fn steps_in_turn_each_see_their_own_paths_and_network() {
    let place = place(|_| {});
    let (mut host, mut offline) = (HashSet::new(), HashSet::new());
    for (id, none) in [
        (20, false),
        (21, true),
        (22, true),
        (23, false),
        (24, false),
        (25, true),
    ] {
        let script = "readlink /proc/self/ns/net; tail -n +3 /proc/net/dev | wc -l; ls -A ..";
        let mut step = place.step(id, script);
        if none && let Some(sandboxed) = step.sandboxed.as_mut() {
            sandboxed.isolation.network = Network::None;
        }
        let (ending, lines) = run_collect(&step, CancellationToken::new()).await;
        assert_eq!(ending, Ending::Exited(0), "step {id}: {lines:?}");
        let out = text(&lines, Stream::Stdout);
        assert_eq!(
            out[2..],
            [format!("{id}-1"), format!("{id}-1.out")],
            "step {id}"
        );
        if none {
            assert_eq!(out[1], "1", "step {id}: only its loopback");
            assert!(
                offline.insert(out[0].clone()),
                "step {id}: a network of its own"
            );
        } else {
            host.insert(out[0].clone());
        }
    }
    assert_eq!(host.len(), 1, "{host:?}");
    assert!(host.is_disjoint(&offline), "{host:?} {offline:?}");
}

/// A terminal one step opens is not another's to see: each step mounts a
/// `/dev/pts` of its own.
#[tokio::test]
async fn terminals_are_each_steps_own() {
    let place = place(|_| {});
    let holder = place.step(
        11,
        "python3 -c 'import os, pty, time; m, s = pty.openpty(); print(os.ttyname(s), flush=True); time.sleep(2)'",
    );
    let looker = place.step(12, "sleep 1; ls /dev/pts | tr '\\n' ' '");
    let ((held, held_lines), (looked, looked_lines)) = tokio::join!(
        run_collect(&holder, CancellationToken::new()),
        run_collect(&looker, CancellationToken::new())
    );
    assert_eq!(held, Ending::Exited(0), "{held_lines:?}");
    assert_eq!(
        text(&held_lines, Stream::Stdout),
        ["/dev/pts/0"],
        "{held_lines:?}"
    );
    assert_eq!(looked, Ending::Exited(0), "{looked_lines:?}");
    assert_eq!(
        text(&looked_lines, Stream::Stdout),
        ["ptmx "],
        "another step's terminal is visible"
    );
}

/// Each step's process limit counts its own processes: two steps that
/// each hold most of their limit run side by side.
#[tokio::test]
async fn the_process_limit_is_each_steps_own() {
    let place = place(|config| config.step_max_processes = 24);
    // A failed fork ends a non-interactive shell: the second burst runs
    // in a subshell, and nothing after it forks.
    let command = "for i in $(seq 16); do sleep 3 & done; sleep 0.5; \
                   echo \"sleeping $(grep -l '^sleep$' /proc/[0-9]*/comm | wc -l)\"; \
                   if (for i in $(seq 16); do sleep 3 & done; wait) 2>/dev/null; \
                   then echo unbounded; else echo bounded; fi";
    let (a, b) = (place.step(4, command), place.step(5, command));
    let ((end_a, lines_a), (end_b, lines_b)) = tokio::join!(
        run_collect(&a, CancellationToken::new()),
        run_collect(&b, CancellationToken::new())
    );
    for (ending, lines) in [(end_a, lines_a), (end_b, lines_b)] {
        assert_eq!(ending, Ending::Exited(0), "{lines:?}");
        assert_eq!(text(&lines, Stream::Stdout), ["sleeping 16", "bounded"]);
    }
}

#[tokio::test]
async fn a_failed_setup_is_said_on_the_steps_stderr() {
    let place = place(|_| {});
    let step = place.step(6, "echo never");
    // Its directory went before it started.
    std::fs::remove_dir(&step.workdir).unwrap();
    let (ending, lines) = run_collect(&step, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(126));
    let said = text(&lines, Stream::Stderr).join("\n");
    assert!(
        said.contains("kiln: cannot start the step: setting up its sandbox failed"),
        "{said}"
    );
    assert!(text(&lines, Stream::Stdout).is_empty());
}

/// The sandboxed launcher killed under a running step: the step dies with
/// it, ends with an error, and the next step starts on a new launcher.
#[tokio::test]
async fn a_killed_sandboxed_launcher_takes_its_steps() {
    let place = place(|_| {});
    let tag = format!("tag-{}", uuid::Uuid::new_v4().simple());
    let step = place.step(7, &format!("export T={tag}; touch started; exec sleep 30"));
    let started_file = step.workdir.join("started");
    let running = tokio::spawn(async move {
        let (tx, _rx) = mpsc::channel(64);
        run(&step, tx, CancellationToken::new()).await
    });
    let started = Instant::now();
    while !started_file.exists() {
        assert!(started.elapsed() < Duration::from_secs(10), "never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let with_tag = || processes(|pid| environ(pid).contains(&tag));
    // `/proc/{pid}/environ` shows a process's environment as it was at
    // exec: the shell's own does not hold the tag, `touch`'s does (and may
    // still be exiting), and `sleep`'s does once the shell has become it.
    let sleeping = || processes(|pid| environ(pid).contains(&tag) && comm(pid) == "sleep");
    while sleeping().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "never exec'd");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sleeping().len(), 1);
    let launchers = processes(|pid| {
        is_launcher(pid)
            && descends_from_this_test(pid)
            // Not a step's init: a copy of the launcher, its child.
            && !is_launcher(parent_of(pid).unwrap_or(0))
    });
    assert_eq!(launchers.len(), 1, "{launchers:?}");
    for pid in launchers {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let ended = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the step ends when its launcher dies")
        .unwrap();
    assert!(ended.is_err(), "{ended:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(with_tag().is_empty(), "the step outlived its launcher");
    let (ending, lines) = run_collect(&place.step(8, "echo again"), CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0));
    assert_eq!(text(&lines, Stream::Stdout), ["again"]);
}

/// Abstract Unix sockets belong to the network namespace, which a step
/// with `network: host` shares with the host and with other steps: a step
/// reaches its own abstract sockets, not the host's nor another step's.
#[tokio::test]
async fn abstract_sockets_stay_in_their_step() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    assert!(
        launcher::scope_abi().is_some(),
        "this kernel cannot scope abstract sockets (Landlock ABI 6)"
    );
    let place = place(|_| {});
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let host_name = format!("kiln-host-{tag}");
    let host =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(host_name.as_bytes()).unwrap())
            .unwrap();
    let mut holder = place.step(
        13,
        // Listens until the test says it is done (at most 30 s).
        "python3 -c 'import os, socket, sys, time; s = socket.socket(socket.AF_UNIX); \
         s.bind(b\"\\0\" + sys.argv[1].encode()); s.listen(); open(\"listening\", \"w\"); \
         [time.sleep(0.05) for _ in range(600) if not os.path.exists(\"done\")]' \"kiln-step-$TAG\"",
    );
    holder.env.push(("TAG".into(), tag.clone()));
    let listening = holder.workdir.join("listening");
    let done = holder.workdir.join("done");
    let holding = tokio::spawn(async move { run_collect(&holder, CancellationToken::new()).await });
    let started = Instant::now();
    while !listening.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut prober = place.step(
        14,
        "python3 -c \"$PROBE\" \"kiln-host-$TAG\" \"kiln-step-$TAG\"",
    );
    prober.env.push(("TAG".into(), tag.clone()));
    prober.env.push((
        "PROBE".into(),
        "import errno, socket, sys\n\
         def reach(name):\n\
         \x20   s = socket.socket(socket.AF_UNIX)\n\
         \x20   try:\n\
         \x20       s.connect(b'\\0' + name.encode())\n\
         \x20       return 'reached'\n\
         \x20   except OSError as e:\n\
         \x20       return 'refused ' + errno.errorcode.get(e.errno, str(e.errno))\n\
         own = socket.socket(socket.AF_UNIX)\n\
         own.bind(b'\\0' + sys.argv[2].encode() + b'-own')\n\
         own.listen()\n\
         print('own', reach(sys.argv[2] + '-own'))\n\
         print('host', reach(sys.argv[1]))\n\
         print('other step', reach(sys.argv[2]))\n"
            .into(),
    ));
    let (ending, lines) = run_collect(&prober, CancellationToken::new()).await;
    assert_eq!(ending, Ending::Exited(0), "{lines:?}");
    assert_eq!(
        text(&lines, Stream::Stdout),
        // Refused by the scope (EPERM), not for want of a listener: the
        // other step still listens.
        [
            "own reached",
            "host refused EPERM",
            "other step refused EPERM"
        ]
    );
    std::fs::write(&done, b"").unwrap();
    let (held, held_lines) = holding.await.unwrap();
    assert_eq!(held, Ending::Exited(0), "{held_lines:?}");
    // The host's socket itself works: it was the step that was refused.
    assert!(
        std::os::unix::net::UnixStream::connect_addr(
            &SocketAddr::from_abstract_name(host_name.as_bytes()).unwrap()
        )
        .is_ok()
    );
    drop(host);
}

fn is_launcher(pid: i32) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains(launcher::MODE)
        && cmdline.contains(launcher::SANDBOXED)
        && !cmdline.contains("bwrap")
}
