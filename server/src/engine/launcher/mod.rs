//! Starting a step's process without forking the server. A fork copies the
//! page tables of a process with tens of megabytes mapped and many threads;
//! until the child execs, every page the running server writes takes a
//! copy-on-write fault, and the exec then tears the copy down again.
//! Starting Kiln's own binary once per step instead (as a launcher that
//! sets up and execs) cost a third of the machine during a fan-out: the
//! dynamic loader relocating a large binary and faulting its pages in, for
//! every step.
//!
//! So one small process stays resident: Kiln's binary in launcher mode,
//! single-threaded, started once per Kiln process ([`client`]). For each
//! step it starts a child that shares its memory until exec (`vfork`),
//! which does what has to happen before the step's program runs — its
//! process group, the working directory, the host user, the parent-death
//! signal, the resource limits — then execs it ([`resident`]).
//! It reaps its children and reports each exit. [`protocol`] is what the
//! two say to each other. With the sandbox the launcher itself runs inside
//! one bubblewrap sandbox and starts each step in namespaces of its own
//! (`isolate`). Without a launcher binary (a test binary that
//! embeds the server cannot be re-executed as Kiln), steps start by fork
//! with the same setup in the child (`shell`).

pub mod client;
mod early_ends;
mod isolate;
pub mod protocol;
mod resident;
mod scope;
mod stacks;
mod step_view;
mod vfork;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kiln_core::sandbox::Limit;
use nix::sys::resource::Resource;

/// The kernel's Landlock ABI when it can scope a step's abstract sockets
/// and signals to the step.
pub fn scope_abi() -> Option<i64> {
    scope::supported()
}

/// The first argument that puts the `kiln` binary in launcher mode.
pub const MODE: &str = "__kiln_step_launcher";

/// The argument after the parent's id that makes a launcher sandboxed (it
/// runs inside bubblewrap and gives each step namespaces of its own).
pub const SANDBOXED: &str = "sandboxed";

static LAUNCHER: OnceLock<PathBuf> = OnceLock::new();

/// Steps of this process start through `binary` in launcher mode (the
/// `kiln` binary: `/proc/self/exe` in `main`). Set once, before steps run;
/// the resident process itself starts with the first step.
pub fn enable(binary: PathBuf) {
    let _ = LAUNCHER.set(binary);
}

/// The launcher binary, when there is one.
pub fn binary() -> Option<&'static Path> {
    LAUNCHER.get().map(PathBuf::as_path)
}

/// What is set up before a step's program starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub host_user: Option<(u32, u32)>,
    pub limits: Vec<(Limit, u64)>,
    /// The step's namespaces (only a sandboxed launcher makes them).
    pub isolation: Option<protocol::Isolation>,
}

/// In `main`, before anything else (the resident launcher must be a
/// single-threaded process, so nothing may have started a thread yet):
/// when this process was started as the launcher, serve until Kiln goes
/// (never returns).
pub fn run_if_asked() {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().as_deref() != Some(MODE.as_ref()) {
        return;
    }
    let parent = args
        .next()
        .and_then(|a| a.into_string().ok())
        .and_then(|a| a.parse::<i32>().ok());
    let Some(parent) = parent else {
        eprintln!("kiln: the step launcher needs its parent's process id");
        std::process::exit(2);
    };
    let sandboxed = args.next().as_deref() == Some(SANDBOXED.as_ref());
    resident::serve(parent, sandboxed)
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

const LIMITS: [Limit; 5] = [
    Limit::Processes,
    Limit::OpenFiles,
    Limit::FileBytes,
    Limit::AddressSpaceBytes,
    Limit::CoreBytes,
];

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
    LIMITS.into_iter().find(|&l| limit_name(l) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_has_a_name_that_reads_back() {
        for limit in LIMITS {
            assert_eq!(limit_of(limit_name(limit)), Some(limit));
        }
        assert_eq!(limit_of("stack"), None);
    }
}
