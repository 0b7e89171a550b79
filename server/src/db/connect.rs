//! Opening the database named by the configuration: SQLite (WAL, busy timeout,
//! foreign keys on), PostgreSQL or MySQL/MariaDB. The one sqlx pool is wrapped
//! for SeaORM so queries and the job queue share connections. A SQLite file
//! is Kiln's user's alone (0600; SQLite gives its -wal and -shm files the
//! database file's mode): it holds password hashes and sealed secrets.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use kiln_core::{DatabaseKind, DatabaseUrl};
use sea_orm::{DatabaseConnection, SqlxMySqlConnector, SqlxPostgresConnector, SqlxSqliteConnector};
use sqlx::mysql::{MySqlPool, MySqlPoolOptions};
use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The raw pool, for the parts (apalis) that speak sqlx directly.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// An open database: SeaORM's handle and the sqlx pool beneath it.
#[derive(Clone, Debug)]
pub struct Database {
    pub conn: DatabaseConnection,
    pub pool: Pool,
    pub url: DatabaseUrl,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create directory {path} for the SQLite database: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the SQLite database {path}: {source}")]
    CreateFile {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sea_orm::DbErr),
}

/// How to open the pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Database {
    pub async fn connect(url: &DatabaseUrl, settings: PoolSettings) -> Result<Self, DbError> {
        let connect_error = |source| DbError::Connect {
            url: url.redacted(),
            source,
        };
        let pool = match url.kind() {
            DatabaseKind::Sqlite => {
                let options = SqliteConnectOptions::from_str(url.expose())
                    .map_err(connect_error)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    // Each pooled connection keeps its own page cache and
                    // prepared statements (a 500-row insert's is large):
                    // SQLite's 2 MB and sqlx's 100 per connection held 60 MB
                    // more than PostgreSQL with 10,000 steps queued.
                    .pragma("cache_size", "-512")
                    // Checkpoints are the background loop's (see `checkpoint`).
                    .pragma(
                        "wal_autocheckpoint",
                        super::checkpoint::BACKSTOP_PAGES.to_string(),
                    )
                    // The log file keeps its largest size otherwise.
                    .pragma(
                        "journal_size_limit",
                        super::checkpoint::LOG_KEPT_BYTES.to_string(),
                    )
                    .statement_cache_capacity(24);
                create_parent_dir(options.get_filename())?;
                // Each connection to `:memory:` is a database of its own.
                let in_memory = options.get_filename() == std::path::Path::new(":memory:");
                if !in_memory {
                    create_private_file(options.get_filename())?;
                }
                let max_connections = if in_memory {
                    1
                } else {
                    settings.max_connections
                };
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    // A connection to a local file cannot have been dropped
                    // by a peer: sqlx's ping before each use was a round trip
                    // to the connection's thread for every statement.
                    .test_before_acquire(false)
                    .acquire_timeout(settings.connect_timeout)
                    .after_connect(|conn, _| Box::pin(super::sqlite_busy::install(conn)))
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                Pool::Sqlite(pool)
            }
            DatabaseKind::Postgres => Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| ping_if_idle(conn, meta))
                    .acquire_timeout(settings.connect_timeout)
                    .connect(url.expose())
                    .await
                    .map_err(connect_error)?,
            ),
            DatabaseKind::MySql => Pool::MySql(
                MySqlPoolOptions::new()
                    .max_connections(settings.max_connections)
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| ping_if_idle(conn, meta))
                    .acquire_timeout(settings.connect_timeout)
                    // InnoDB's default REPEATABLE READ takes gap locks on the
                    // job queue's `FOR UPDATE SKIP LOCKED` scans, stalling
                    // concurrent inserts; READ COMMITTED is what PostgreSQL
                    // runs with anyway.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(
                                conn,
                                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                            )
                            .await
                            .map(|_| ())
                        })
                    })
                    .connect(url.expose())
                    .await
                    .map_err(connect_error)?,
            ),
        };
        let conn = match &pool {
            Pool::Sqlite(p) => SqlxSqliteConnector::from_sqlx_sqlite_pool(p.clone()),
            Pool::Postgres(p) => SqlxPostgresConnector::from_sqlx_postgres_pool(p.clone()),
            Pool::MySql(p) => SqlxMySqlConnector::from_sqlx_mysql_pool(p.clone()),
        };
        Ok(Self {
            conn,
            pool,
            url: url.clone(),
        })
    }

    /// True when the database answers a trivial query.
    pub async fn is_reachable(&self) -> bool {
        self.conn.ping().await.is_ok()
    }

    pub async fn close(self) {
        match self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
        }
    }
}

/// How long a server connection may sit unused before it is pinged again
/// before its next use.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Checks a PostgreSQL or MySQL connection before use only when it sat idle
/// for a while: that is when the server may have closed it (a restart, an
/// idle timeout) without Kiln noticing. A connection in steady use proves
/// itself with every statement, and a ping before each one would double the
/// round trips of a busy pool; if it breaks mid-burst, the statement's error
/// is what the outage handling already expects. A failed ping drops the
/// connection and the pool tries another.
pub fn ping_if_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if meta.idle_for >= PING_AFTER_IDLE {
            conn.ping().await?;
        }
        Ok(true)
    })
}

/// Creates the SQLite file 0600 before SQLite does (it would use the umask,
/// typically 0644); a file left readable by others is made private.
fn create_private_file(file: &std::path::Path) -> Result<(), DbError> {
    const MODE: u32 = 0o600;
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .open(file);
    match created {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(DbError::CreateFile {
                path: file.display().to_string(),
                source,
            });
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        let path = std::path::PathBuf::from(path);
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.is_file()
            && meta.permissions().mode() & 0o077 != 0
            && let Err(error) =
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(MODE))
        {
            tracing::warn!(file = %path.display(), %error, "cannot make the database file private");
        }
    }
    Ok(())
}

fn create_parent_dir(file: &std::path::Path) -> Result<(), DbError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && file != std::path::Path::new(":memory:") => {
            std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                path: dir.display().to_string(),
                source,
            })
        }
        _ => Ok(()),
    }
}
