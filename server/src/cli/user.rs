//! `kiln user create NAME [--admin]` and `kiln user reset-password NAME`: the
//! operator's way in when registration is closed or a password is lost. The
//! password comes from a hidden prompt (asked twice) or, for scripts, from
//! the first line of stdin with `--password-stdin`; never from arguments,
//! which other users can read in the process list.

use std::io::BufRead;

use clap::{Args, Subcommand};

use crate::accounts::credentials;
use crate::accounts::users::{self, NewUser};
use crate::db::Database;
use crate::serve::ServeError;

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account.
    Create {
        username: String,
        /// Make the account an instance admin.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a new password; the account's sessions end and its API tokens
    /// are revoked.
    ResetPassword {
        username: String,
        #[command(flatten)]
        password: PasswordSource,
    },
}

#[derive(Debug, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordSource {
    fn read(&self) -> Result<String, ServeError> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                ServeError::Input(format!("cannot read the password from stdin: {e}"))
            })?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            if password.is_empty() {
                return Err(ServeError::Input("no password on stdin".into()));
            }
            return Ok(password);
        }
        let no_tty = |e: std::io::Error| {
            ServeError::Input(format!(
                "cannot prompt for a password ({e}); pipe it in with --password-stdin"
            ))
        };
        let first = rpassword::prompt_password("Password: ").map_err(no_tty)?;
        let again = rpassword::prompt_password("Again: ").map_err(no_tty)?;
        if first != again {
            return Err(ServeError::Input("the passwords differ".into()));
        }
        Ok(first)
    }
}

pub async fn run(database: &Database, action: UserAction) -> Result<(), ServeError> {
    let db = &database.conn;
    match action {
        UserAction::Create {
            username,
            admin,
            password,
        } => {
            let password = password.read()?;
            let user = users::create(
                db,
                NewUser {
                    username,
                    password,
                    admin,
                },
            )
            .await?;
            let what = if user.is_admin {
                "instance admin"
            } else {
                "user"
            };
            println!("created {what} {} (id {})", user.username, user.id);
        }
        UserAction::ResetPassword { username, password } => {
            let user = users::find_by_username(db, &username)
                .await?
                .ok_or_else(|| ServeError::Input(format!("no user named {username:?}")))?;
            let password = password.read()?;
            let changed = credentials::reset_password(db, user.id, password).await?;
            println!(
                "password of {} changed; their sessions have ended and {} API token{} revoked",
                user.username,
                changed.tokens_revoked,
                if changed.tokens_revoked == 1 {
                    " was"
                } else {
                    "s were"
                },
            );
        }
    }
    Ok(())
}
