//! The `kiln` binary: a thin shell over the `kiln_server` library, so that a
//! bad flag, config or database ends in one line on stderr and exit code 1.

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: kiln_server::memory::allocator::Allocator =
    kiln_server::memory::allocator::Allocator;

fn main() -> ExitCode {
    // A step's launcher execs the step's program here and never returns.
    kiln_server::engine::launcher::run_if_asked();
    if let Err(message) = kiln_server::memory::allocator::tune() {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    // Without /proc (an unusual container) steps start by fork instead.
    if std::path::Path::new("/proc/self/exe").exists() {
        kiln_server::engine::launcher::enable("/proc/self/exe".into());
    }
    limit_malloc_arenas();
    kiln_server::cli::main()
}

/// glibc gives each busy thread an arena of its own (up to 8 per core) and
/// keeps what was freed in them: after a 1,000-step fan-out the server held
/// 63 MB, with 10,000 steps queued 164 MB. Two arenas: 48 MB and 103 MB,
/// at the same speed (bench/engine). With mimalloc chosen, glibc still
/// serves the C libraries (SQLite above all).
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    // SAFETY: `mallopt` only sets a malloc parameter; it runs in `main`
    // before any other thread exists.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 2);
    }
}
