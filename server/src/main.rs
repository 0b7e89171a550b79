//! The `kiln` binary: a thin shell over the `kiln_server` library, so that a
//! bad flag, config or database ends in one line on stderr and exit code 1.

use std::process::ExitCode;

fn main() -> ExitCode {
    kiln_server::cli::main()
}
