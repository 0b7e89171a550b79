//! Starting a step's process without forking the server. A fork copies the
//! page tables of a process with tens of megabytes mapped and many threads;
//! until the child execs, every page the running server writes takes a
//! copy-on-write fault, and the exec then tears the copy down again. On 2
//! cores that was half of the time the runtime's threads spent per step.
//!
//! With a launcher, a step's process starts as `posix_spawn` (vfork-like:
//! nothing is copied) of Kiln's own binary in launcher mode, which does
//! what has to happen between fork and exec — the host user, the
//! parent-death signal, the resource limits — and then execs the step's
//! program in its place. Without one (a test binary that embeds the server
//! cannot be re-executed as Kiln), steps start with fork and the same setup
//! in the child.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kiln_core::sandbox::Limit;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::Signal;
use nix::unistd::{Gid, Pid, Uid};

/// The first argument that puts the `kiln` binary in launcher mode.
pub const MODE: &str = "__kiln_launch_step";

static LAUNCHER: OnceLock<PathBuf> = OnceLock::new();

/// Steps of this process start through `binary` in launcher mode (the
/// `kiln` binary: `/proc/self/exe` in `main`). Set once, before steps run.
pub fn enable(binary: PathBuf) {
    let _ = LAUNCHER.set(binary);
}

/// The launcher binary, when there is one.
pub fn binary() -> Option<&'static Path> {
    LAUNCHER.get().map(PathBuf::as_path)
}

/// What the launcher sets up before it execs the step's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    /// The process that starts it: the launcher gives up when its parent
    /// is already another (Kiln died before the death signal was armed).
    pub parent: u32,
    pub host_user: Option<(u32, u32)>,
    pub limits: Vec<(Limit, u64)>,
}

/// The launcher's arguments for `setup`, then `argv` (program first).
pub fn arguments(setup: &Setup, argv: &[String]) -> Vec<String> {
    let mut args = vec![MODE.to_owned(), "--parent".into(), setup.parent.to_string()];
    if let Some((uid, gid)) = setup.host_user {
        args.extend(["--user".into(), format!("{uid}:{gid}")]);
    }
    for &(limit, value) in &setup.limits {
        args.extend(["--limit".into(), format!("{}={value}", limit_name(limit))]);
    }
    args.push("--".into());
    args.extend(argv.iter().cloned());
    args
}

/// In `main`, before anything else: when this process was started as a
/// launcher, set up and exec the step's program (never returns).
pub fn run_if_asked() {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().as_deref() != Some(MODE.as_ref()) {
        return;
    }
    let error = match parse(args) {
        Ok((setup, argv)) => launch(&setup, &argv),
        Err(error) => error,
    };
    eprintln!("kiln: cannot start the step: {error}");
    // As a shell reports a program it cannot run.
    std::process::exit(126);
}

fn parse(mut args: impl Iterator<Item = OsString>) -> Result<(Setup, Vec<OsString>), String> {
    let mut setup = Setup {
        parent: 0,
        host_user: None,
        limits: Vec::new(),
    };
    let text = |value: Option<OsString>| -> Result<String, String> {
        value
            .and_then(|v| v.into_string().ok())
            .ok_or_else(|| "a launcher option lacks its value".to_owned())
    };
    loop {
        let Some(arg) = args.next() else {
            return Err("no program to run".into());
        };
        match arg.to_str() {
            Some("--") => break,
            Some("--parent") => {
                setup.parent = text(args.next())?.parse().map_err(|_| "bad --parent")?;
            }
            Some("--user") => {
                let value = text(args.next())?;
                let (uid, gid) = value.split_once(':').ok_or("bad --user")?;
                let uid = uid.parse().map_err(|_| "bad --user")?;
                let gid = gid.parse().map_err(|_| "bad --user")?;
                setup.host_user = Some((uid, gid));
            }
            Some("--limit") => {
                let value = text(args.next())?;
                let (name, amount) = value.split_once('=').ok_or("bad --limit")?;
                let limit = limit_of(name).ok_or("unknown --limit")?;
                setup
                    .limits
                    .push((limit, amount.parse().map_err(|_| "bad --limit")?));
            }
            _ => return Err(format!("unknown launcher option {arg:?}")),
        }
    }
    let argv: Vec<OsString> = args.collect();
    if argv.is_empty() {
        return Err("no program to run".into());
    }
    Ok((setup, argv))
}

/// The user, the death signal (after the user: a change of user clears
/// it), the limits, then the program. Returns only on failure.
fn launch(setup: &Setup, argv: &[OsString]) -> String {
    let result = (|| -> nix::Result<()> {
        if let Some((uid, gid)) = setup.host_user {
            nix::unistd::setgroups(&[])?;
            nix::unistd::setgid(Gid::from_raw(gid))?;
            nix::unistd::setuid(Uid::from_raw(uid))?;
        }
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
        if nix::unistd::getppid() != Pid::from_raw(i32::try_from(setup.parent).unwrap_or(0)) {
            return Err(nix::errno::Errno::ESRCH);
        }
        for &(limit, value) in &setup.limits {
            setrlimit(resource_of(limit), value, value)?;
        }
        Ok(())
    })();
    if let Err(errno) = result {
        return format!("setting up its process failed: {errno}");
    }
    let Some((program, args)) = argv.split_first() else {
        return "no program to run".into();
    };
    // The environment and working directory are already the step's.
    let error = std::process::Command::new(program).args(args).exec();
    format!("{}: {error}", program.to_string_lossy())
}

pub fn resource_of(limit: Limit) -> Resource {
    match limit {
        Limit::Processes => Resource::RLIMIT_NPROC,
        Limit::OpenFiles => Resource::RLIMIT_NOFILE,
        Limit::FileBytes => Resource::RLIMIT_FSIZE,
        Limit::AddressSpaceBytes => Resource::RLIMIT_AS,
        Limit::CoreBytes => Resource::RLIMIT_CORE,
    }
}

fn limit_name(limit: Limit) -> &'static str {
    match limit {
        Limit::Processes => "nproc",
        Limit::OpenFiles => "nofile",
        Limit::FileBytes => "fsize",
        Limit::AddressSpaceBytes => "as",
        Limit::CoreBytes => "core",
    }
}

fn limit_of(name: &str) -> Option<Limit> {
    [
        Limit::Processes,
        Limit::OpenFiles,
        Limit::FileBytes,
        Limit::AddressSpaceBytes,
        Limit::CoreBytes,
    ]
    .into_iter()
    .find(|&l| limit_name(l) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_read_back_as_given() {
        let setup = Setup {
            parent: 42,
            host_user: Some((1_900_000_001, 1_900_000_001)),
            limits: vec![(Limit::Processes, 64), (Limit::AddressSpaceBytes, 1 << 34)],
        };
        let argv = vec![
            "/bin/sh".to_owned(),
            "-c".into(),
            "echo --user x -- y".into(),
        ];
        let args = arguments(&setup, &argv);
        assert_eq!(args[0], MODE);
        let (read, program) = parse(args.into_iter().skip(1).map(OsString::from)).unwrap();
        assert_eq!(read, setup);
        assert_eq!(program, argv.iter().map(OsString::from).collect::<Vec<_>>());
    }

    #[test]
    fn bad_arguments_are_refused() {
        for args in [
            vec!["--parent", "x", "--", "sh"],
            vec!["--user", "1", "--", "sh"],
            vec!["--limit", "stack=1", "--", "sh"],
            vec!["--parent", "1", "--"],
            vec!["--parent", "1"],
            vec!["--bogus", "--", "sh"],
        ] {
            assert!(parse(args.into_iter().map(OsString::from)).is_err());
        }
    }
}
