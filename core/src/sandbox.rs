//! The bubblewrap command lines of the step sandbox, as plain functions of
//! what a step may see, and the resource limits its processes get. The
//! sandbox has its own user, PID, IPC, UTS, cgroup and mount namespaces (and
//! network, with `network: none`); the root filesystem read-only; a
//! private, size-bounded `/tmp`; a fresh `/proc` and minimal `/dev`; Kiln's
//! own files (data directory, config file, sockets under `/run`) covered by
//! empty tmpfs mounts; only the step's directory and its outputs file
//! writable; uid/gid 65534 inside.
//!
//! Two shapes: [`command_line`] runs one step in a sandbox of its own;
//! [`launcher_command_line`] runs Kiln's resident step launcher in one,
//! with the directory of every step's files writable, and the launcher
//! gives each step the per-step parts (namespaces, `/proc`, `/tmp`, only its
//! own directory, its user namespace) itself, without a bubblewrap per step.
//! The limits are set before the step's user namespace exists (with the
//! launcher: as it is made), so they hold for everything inside. (Set later,
//! by the step's own shell inside its user namespace, the process limit did
//! not hold: a fork bomb exhausted the host's PIDs.) The step's environment
//! is passed through the process environment, never on a command line
//! (which other users of the host could read).

use std::path::{Path, PathBuf};

/// The uid and gid a step has inside the sandbox (`nobody`).
pub const SANDBOX_ID: u32 = 65534;

/// Where a task's steps may reach over the network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The host's network (CI needs to fetch dependencies).
    #[default]
    Host,
    /// No network at all: only a loopback interface of its own.
    None,
}

impl Network {
    pub fn parse(text: &str) -> Option<Network> {
        match text {
            "host" => Some(Network::Host),
            "none" => Some(Network::None),
            _ => None,
        }
    }
}

/// Per-step resource limits; 0 means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLimits {
    /// Processes (and threads) of the user the sandbox runs as.
    pub processes: u64,
    pub open_files: u64,
    /// Largest file a step may write.
    pub file_bytes: u64,
    /// Virtual memory of each process.
    pub address_space_bytes: u64,
    /// Size of the private `/tmp` (a tmpfs, so it is memory).
    pub tmp_bytes: u64,
}

impl Default for StepLimits {
    fn default() -> Self {
        StepLimits {
            processes: 1024,
            open_files: 4096,
            file_bytes: 4 << 30,
            address_space_bytes: 16 << 30,
            tmp_bytes: 1 << 30,
        }
    }
}

/// One resource limit of a step's processes (`setrlimit`'s resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Processes and threads of the host user the sandbox runs as.
    Processes,
    OpenFiles,
    FileBytes,
    AddressSpaceBytes,
    CoreBytes,
}

impl StepLimits {
    /// The limits to set, soft and hard alike, before the sandbox starts:
    /// the ones configured (0 = unlimited, left out) and no core dumps.
    pub fn process_limits(&self) -> Vec<(Limit, u64)> {
        [
            (Limit::Processes, self.processes),
            (Limit::OpenFiles, self.open_files),
            (Limit::FileBytes, self.file_bytes),
            (Limit::AddressSpaceBytes, self.address_space_bytes),
        ]
        .into_iter()
        .filter(|(_, value)| *value > 0)
        .chain([(Limit::CoreBytes, 0)])
        .collect()
    }
}

/// What one sandboxed step may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSpec {
    /// The step's working directory: writable, the current directory.
    pub workdir: PathBuf,
    /// Files the step may write besides (`$KILN_OUTPUT`); they must exist.
    pub writable_files: Vec<PathBuf>,
    /// Directories covered by an empty tmpfs (Kiln's data, `/run`, …).
    pub hidden_dirs: Vec<PathBuf>,
    /// Files covered by an empty file (a config file outside the data dir).
    pub hidden_files: Vec<PathBuf>,
    pub network: Network,
    pub limits: StepLimits,
}

/// Environment variables that steer the dynamic loader or the C library of
/// a program as it starts (glibc's list of those it ignores for set-user-ID
/// programs). A step's environment also reaches the programs that build
/// its sandbox, outside it and some as root (Kiln's launcher, bubblewrap):
/// such a variable naming a library in the checkout would run the
/// author's code there. Steps may not set them; inside its script a step
/// may still `export` what it likes.
pub fn steers_loader(name: &str) -> bool {
    name.starts_with("LD_")
        || name.starts_with("MALLOC_")
        || matches!(
            name,
            "GCONV_PATH"
                | "GETCONF_DIR"
                | "GLIBC_TUNABLES"
                | "HOSTALIASES"
                | "LOCALDOMAIN"
                | "LOCPATH"
                | "NIS_PATH"
                | "NLSPATH"
                | "RESOLV_HOST_CONF"
                | "RES_OPTIONS"
        )
}

/// The program and arguments that run `command` with `/bin/sh -c` inside
/// the sandbox: `bwrap … -- /bin/sh -c command`. Its limits are
/// [`StepLimits::process_limits`], set by whoever starts it.
pub fn command_line(spec: &SandboxSpec, command: &str) -> Vec<String> {
    let mut argv = vec!["bwrap".to_owned()];
    namespaces(spec.network, &mut argv);
    argv.extend(["--disable-userns", "--cap-drop", "ALL"].map(String::from));
    mounts(spec, &mut argv);
    let workdir = path_text(&spec.workdir);
    let id = SANDBOX_ID.to_string();
    argv.extend(["--uid", &id, "--gid", &id, "--chdir", &workdir].map(String::from));
    argv.extend(["--", "/bin/sh", "-c", command].map(String::from));
    argv
}

/// Where the launcher's own binary is bound inside its sandbox: in its
/// private `/tmp`, which every step covers with a fresh one.
pub const LAUNCHER_INSIDE: &str = "/tmp/.kiln-step-launcher";

/// The command line of a resident step launcher that lives inside one
/// sandbox and gives each step namespaces of its own: the same mounts as a
/// step's sandbox, with `spec.workdir` the directory holding every step's
/// directory (writable; each step sees only its own), the launcher's binary
/// (open as descriptor `binary_fd` in bubblewrap: the very file Kiln runs,
/// wherever it lies and even once replaced on disk) bound at
/// [`LAUNCHER_INSIDE`] and started with `args`. It is root of its user
/// namespace, with the capabilities it needs to make a step's mount, PID,
/// IPC, UTS and network namespaces; steps get none of them (each runs as
/// [`SANDBOX_ID`] in a user namespace of its own). The network is the
/// host's; a step with `network: none` gets a namespace without.
pub fn launcher_command_line(spec: &SandboxSpec, binary_fd: i32, args: &[&str]) -> Vec<String> {
    let mut argv = vec!["bwrap".to_owned()];
    namespaces(Network::Host, &mut argv);
    mounts(spec, &mut argv);
    let binary = binary_fd.to_string();
    argv.extend(["--ro-bind-fd", &binary, LAUNCHER_INSIDE].map(String::from));
    argv.extend(
        [
            "--uid",
            "0",
            "--gid",
            "0",
            "--cap-add",
            "ALL",
            "--chdir",
            "/",
        ]
        .map(String::from),
    );
    argv.extend(["--", LAUNCHER_INSIDE].map(String::from));
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    argv
}

fn namespaces(network: Network, argv: &mut Vec<String>) {
    argv.extend(["--unshare-all", "--unshare-user"].map(String::from));
    if network == Network::Host {
        argv.push("--share-net".into());
    }
    argv.extend(["--die-with-parent", "--new-session"].map(String::from));
}

/// The file system: read-only root, fresh `/proc` and `/dev`, bounded
/// private `/tmp` and `/dev/shm`, Kiln's own paths covered, `workdir` and
/// the writable files bound writable.
fn mounts(spec: &SandboxSpec, argv: &mut Vec<String>) {
    let limits = spec.limits;
    let mut arg = |parts: &[&str]| argv.extend(parts.iter().map(|p| (*p).to_owned()));
    arg(&["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]);
    // Memory-backed and writable: both bounded. `/dev` itself is made
    // read-only below, or it would be an unbounded tmpfs.
    let tmp_size = limits.tmp_bytes.to_string();
    for dir in ["/tmp", "/dev/shm"] {
        if limits.tmp_bytes > 0 {
            arg(&["--size", &tmp_size]);
        }
        arg(&["--tmpfs", dir]);
    }
    // Covering a parent after binding inside it would hide the bind:
    // shortest paths first, then what the step may write.
    let mut hidden: Vec<&Path> = spec.hidden_dirs.iter().map(PathBuf::as_path).collect();
    hidden.sort_by_key(|p| p.components().count());
    hidden.dedup();
    for dir in &hidden {
        let dir = path_text(dir);
        arg(&["--tmpfs", &dir]);
    }
    for file in &spec.hidden_files {
        let file = path_text(file);
        arg(&["--ro-bind", "/dev/null", &file]);
    }
    let workdir = path_text(&spec.workdir);
    arg(&["--bind", &workdir, &workdir]);
    for file in &spec.writable_files {
        let file = path_text(file);
        arg(&["--bind", &file, &file]);
    }
    // The covering tmpfs mounts belong to the sandbox user: read-only, so
    // they cannot be filled (the binds inside them stay writable).
    for dir in hidden
        .iter()
        .map(|d| path_text(d))
        .chain(["/dev".to_owned()])
    {
        arg(&["--remount-ro", &dir]);
    }
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SandboxSpec {
        SandboxSpec {
            workdir: "/srv/kiln/data/work/7/12-1".into(),
            writable_files: vec!["/srv/kiln/data/work/7/12-1.out".into()],
            hidden_dirs: vec!["/srv/kiln/data".into(), "/run".into(), "/srv".into()],
            hidden_files: vec!["/etc/kiln.toml".into()],
            network: Network::None,
            limits: StepLimits::default(),
        }
    }

    #[test]
    fn loader_variables_are_known() {
        for name in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "LD_AUDIT",
            "GLIBC_TUNABLES",
            "GCONV_PATH",
            "MALLOC_CHECK_",
        ] {
            assert!(steers_loader(name), "{name}");
        }
        for name in ["PATH", "HOME", "CI", "OLD_PRELOAD", "TMPDIR", "RUST_LOG"] {
            assert!(!steers_loader(name), "{name}");
        }
    }

    fn position(argv: &[String], window: &[&str]) -> usize {
        argv.windows(window.len())
            .position(|w| w.iter().zip(window).all(|(a, b)| a == b))
            .unwrap_or_else(|| panic!("{window:?} not in {argv:?}"))
    }

    #[test]
    fn binds_come_after_what_they_punch_through() {
        let argv = command_line(&spec(), "echo hi");
        let srv = position(&argv, &["--tmpfs", "/srv"]);
        let data = position(&argv, &["--tmpfs", "/srv/kiln/data"]);
        let work = position(&argv, &["--bind", "/srv/kiln/data/work/7/12-1"]);
        let out = position(&argv, &["--bind", "/srv/kiln/data/work/7/12-1.out"]);
        assert!(srv < data && data < work && work < out, "{argv:?}");
        position(&argv, &["--ro-bind", "/dev/null", "/etc/kiln.toml"]);
        let sealed = position(&argv, &["--remount-ro", "/srv/kiln/data"]);
        assert!(out < sealed, "{argv:?}");
        position(&argv, &["--remount-ro", "/dev"]);
        position(&argv, &["--tmpfs", "/dev/shm"]);
        assert_eq!(argv[0], "bwrap");
        assert_eq!(argv[argv.len() - 3..], ["/bin/sh", "-c", "echo hi"]);
    }

    #[test]
    fn network_and_limits_follow_the_spec() {
        let none = command_line(&spec(), "true");
        assert!(!none.contains(&"--share-net".to_owned()));
        let mut host = spec();
        host.network = Network::Host;
        host.limits.processes = 0;
        host.limits.tmp_bytes = 0;
        let limits = host.limits.process_limits();
        let host = command_line(&host, "true");
        assert!(host.contains(&"--share-net".to_owned()));
        assert!(!host.contains(&"--size".to_owned()));
        assert!(!limits.iter().any(|(l, _)| *l == Limit::Processes));
        assert!(limits.contains(&(Limit::OpenFiles, 4096)));
        assert!(limits.contains(&(Limit::CoreBytes, 0)));
        assert_eq!(Network::parse("none"), Some(Network::None));
        assert_eq!(Network::parse("bridge"), None);
    }

    #[test]
    fn the_launcher_gets_the_same_mounts_and_the_work_root() {
        let mut launcher = spec();
        launcher.workdir = "/srv/kiln/data/work".into();
        launcher.writable_files.clear();
        let argv = launcher_command_line(&launcher, 3, &["mode", "1"]);
        let data = position(&argv, &["--tmpfs", "/srv/kiln/data"]);
        let work = position(
            &argv,
            &["--bind", "/srv/kiln/data/work", "/srv/kiln/data/work"],
        );
        let sealed = position(&argv, &["--remount-ro", "/srv/kiln/data"]);
        assert!(data < work && work < sealed, "{argv:?}");
        let tmp = position(&argv, &["--tmpfs", "/tmp"]);
        let binary = position(&argv, &["--ro-bind-fd", "3", LAUNCHER_INSIDE]);
        assert!(tmp < binary, "{argv:?}");
        // Steps choose their own network; the launcher keeps the host's.
        assert!(argv.contains(&"--share-net".to_owned()));
        assert!(!argv.contains(&"--disable-userns".to_owned()));
        assert_eq!(argv[argv.len() - 3..], [LAUNCHER_INSIDE, "mode", "1"]);
    }

    #[test]
    fn the_command_is_one_argument() {
        let argv = command_line(&spec(), "a; b && $(c)");
        assert_eq!(argv.last().map(String::as_str), Some("a; b && $(c)"));
    }
}
