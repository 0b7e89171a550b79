//! Test support: a fresh database per test on each backend (a SQLite file, a
//! randomly named PostgreSQL or MariaDB database, dropped afterwards), the
//! real server started on port 0 against it, and a macro that runs one test
//! body on all three backends.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use kiln_server::config::Config;
use kiln_server::serve::Server;
use sqlx::Connection;

pub const POSTGRES_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/mysql";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// A database that exists for one test.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    /// A random `kiln_test_<uuid>`: safe to splice into SQL.
    name: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("kiln_test_{}", uuid::Uuid::new_v4().simple());
        let url = match backend {
            Backend::Sqlite => {
                format!("sqlite://{}?mode=rwc", dir.path().join("kiln.db").display())
            }
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL at 127.0.0.1:5432 does not answer ({e}). Start it with: \
                         pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
                        )
                    });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                format!("postgres://postgres@127.0.0.1:5432/{name}")
            }
            Backend::MySql => {
                let mut admin = sqlx::MySqlConnection::connect(MYSQL_ADMIN)
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "MariaDB at 127.0.0.1:3306 does not answer ({e}). Start it with: \
                         start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
                        )
                    });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                format!("mysql://root@127.0.0.1:3306/{name}")
            }
        };
        TestDb {
            backend,
            url,
            name,
            dir,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// The configuration a test server runs with: port 0, this database.
    pub fn config(&self) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: self.data_dir(),
            database_url: Some(self.url.clone()),
            shutdown_timeout_seconds: 5,
            worker_concurrency: 2,
            ..Config::default()
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (backend, name) = (self.backend, self.name.clone());
        if backend == Backend::Sqlite {
            return;
        }
        // Drop runs outside async; give the clean-up its own small runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                match backend {
                    Backend::Postgres => {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(POSTGRES_ADMIN).await {
                            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut admin)
                            .await;
                        }
                    }
                    Backend::MySql => {
                        if let Ok(mut admin) = sqlx::MySqlConnection::connect(MYSQL_ADMIN).await {
                            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name}"
                            )))
                            .execute(&mut admin)
                            .await;
                        }
                    }
                    Backend::Sqlite => {}
                }
            });
        })
        .join();
    }
}

/// The real server, started in-process on port 0, and a client for it.
pub struct TestApp {
    pub server: Server,
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts the server with the test configuration changed by `adjust`.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::create(backend).await;
        let mut config = db.config();
        adjust(&mut config);
        // Warnings (a worker restarting, a failed job) show in a failing
        // test's captured output.
        config.log_level = "warn".to_owned();
        kiln_server::telemetry::init(&config);
        let server = Server::start(config).await.expect("server starts");
        let base = format!("http://{}", server.addr());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        TestApp {
            server,
            base,
            client,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn stop(self) {
        let TestApp { server, db, .. } = self;
        server.stop().await.expect("server stops cleanly");
        drop(db);
    }
}

/// Runs `async fn $name(backend: Backend)` once per backend, as three tests
/// named `$name::sqlite`, `$name::postgres` and `$name::mysql`.
#[macro_export]
macro_rules! on_all_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                super::$name($crate::common::Backend::MySql).await;
            }
        }
    };
}
