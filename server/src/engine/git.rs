//! Running the git command line on the server's own mirrors: a clean
//! environment (no user or system config, no prompts, no pager), only the
//! transports a repository link may use (`ext::` and `fd::` can never run;
//! local paths only where the operator allows them), a time limit, and
//! output capped. Every value from a request goes after the options it
//! belongs to and is checked beforehand (commit ids, ref names).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::ServiceError;
use crate::engine::git_address::Pin;

/// How long one git command may take (a first fetch of a big repository).
const GIT_TIMEOUT: Duration = Duration::from_secs(300);
/// Most output read from one command.
pub const MAX_OUTPUT: u64 = 64 * 1024 * 1024;

/// What the commands may reach.
#[derive(Debug, Clone, Copy)]
pub struct Transports {
    pub local: bool,
}

/// Runs `git` with `args` in `dir`; its standard output, or an error with
/// the first line of what it said.
pub async fn git(
    dir: &Path,
    transports: Transports,
    args: &[&str],
    stdin: Option<Vec<u8>>,
) -> Result<Vec<u8>, GitFailure> {
    git_pinned(dir, transports, args, stdin, None).await
}

/// [`git`], connecting only to the checked address of `pin`.
pub async fn git_pinned(
    dir: &Path,
    transports: Transports,
    args: &[&str],
    stdin: Option<Vec<u8>>,
    pin: Option<&Pin>,
) -> Result<Vec<u8>, GitFailure> {
    let file = if transports.local { "always" } else { "never" };
    let ssh = pin
        .and_then(Pin::ssh_command)
        .unwrap_or_else(|| "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new".to_owned());
    let pinned: Vec<String> = pin
        .map(Pin::config)
        .unwrap_or_default()
        .into_iter()
        .flat_map(|setting| ["-c".to_owned(), setting])
        .collect();
    let mut command = Command::new("git");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_ASKPASS", "/bin/false")
        .env("SSH_ASKPASS", "/bin/false")
        .env("GIT_SSH_COMMAND", ssh)
        .args(["-c", "protocol.allow=never"])
        .args(["-c", "protocol.https.allow=always"])
        .args(["-c", "protocol.ssh.allow=always"])
        .args(["-c", &format!("protocol.file.allow={file}")])
        .args(["-c", "core.hooksPath=/dev/null"])
        .args(["-c", "core.fsmonitor=false"])
        // No background housekeeping after a fetch: another process each
        // time, on the webhook's path.
        .args(["-c", "gc.auto=0"])
        .args(["-c", "maintenance.auto=false"])
        .args(&pinned)
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let run = async {
        let mut child = command.spawn().map_err(|e| GitFailure {
            message: format!("git could not start: {e}"),
        })?;
        let writer = match (child.stdin.take(), stdin) {
            (Some(mut pipe), Some(bytes)) => Some(tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let _ = pipe.write_all(&bytes).await;
            })),
            _ => None,
        };
        let mut out = Vec::new();
        let mut err = Vec::new();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let read_out = async {
            if let Some(pipe) = stdout {
                let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(pipe) = stderr {
                let _ = pipe.take(64 * 1024).read_to_end(&mut err).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = child.wait().await.map_err(|e| GitFailure {
            message: format!("git did not finish: {e}"),
        })?;
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        if status.success() {
            Ok(out)
        } else {
            let said = String::from_utf8_lossy(&err);
            let first = said
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message");
            Err(GitFailure {
                message: format!("git {} failed: {first}", args.first().unwrap_or(&"")),
            })
        }
    };
    tokio::time::timeout(GIT_TIMEOUT, run)
        .await
        .map_err(|_| GitFailure {
            message: format!(
                "git {} took longer than {GIT_TIMEOUT:?}",
                args.first().unwrap_or(&"")
            ),
        })?
}

/// A git command that did not succeed, with what it said.
#[derive(Debug, Clone)]
pub struct GitFailure {
    pub message: String,
}

impl From<GitFailure> for ServiceError {
    fn from(failure: GitFailure) -> Self {
        ServiceError::Repository(failure.message)
    }
}
