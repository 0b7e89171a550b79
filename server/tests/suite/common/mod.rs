//! Test support: a fresh database per test on each backend (a SQLite file, a
//! randomly named PostgreSQL or MariaDB database, dropped afterwards), the
//! real server started on port 0 against it, and a macro that runs one test
//! body on all three backends.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod engine;
pub mod git;
pub mod hooks;
pub mod outage;
pub mod processes;

use std::path::PathBuf;
use std::time::Duration;

use kiln_core::accounts::RegistrationMode;
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

    /// The configuration a test server runs with: port 0, this database,
    /// and open registration, since most tests sign up several people (the
    /// default, `invite`, has tests of its own that set it back).
    pub fn config(&self) -> Config {
        Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: self.data_dir(),
            database_url: Some(self.url.clone()),
            shutdown_timeout_seconds: 5,
            worker_concurrency: 2,
            registration: RegistrationMode::Open,
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
    pub config: Config,
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
        // Steps start as the `kiln` binary starts them: through its launcher.
        kiln_server::engine::launcher::enable(env!("CARGO_BIN_EXE_kiln").into());
        let server = Server::start(config.clone()).await.expect("server starts");
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
            config,
        }
    }

    /// Stops the server and starts a new one on the same database (on a new
    /// port: cookies are per host, not per port, so sessions carry over).
    pub async fn restart(self) -> TestApp {
        self.restart_noting_stop().await.0
    }

    /// `restart`, also saying when the old server had stopped.
    pub async fn restart_noting_stop(self) -> (TestApp, chrono::DateTime<chrono::Utc>) {
        let TestApp {
            server,
            client,
            db,
            config,
            ..
        } = self;
        server.stop().await.expect("server stops cleanly");
        let stopped = chrono::Utc::now();
        let server = Server::start(config.clone())
            .await
            .expect("server restarts");
        let base = format!("http://{}", server.addr());
        let app = TestApp {
            server,
            base,
            client,
            db,
            config,
        };
        (app, stopped)
    }

    /// A browser-like API client of its own (cookie jar, `Origin` set).
    pub fn browser(&self) -> Api {
        Api::new(&self.base)
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

/// An API client with its own cookie jar. Requests carry the `Origin` a
/// browser on Kiln's pages would send, unless made with `bare`.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub bearer: Option<String>,
}

impl Api {
    pub fn new(base: &str) -> Api {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Api {
            base: base.to_owned(),
            client,
            bearer: None,
        }
    }

    /// The same cookie jar, pointed at another server (after a restart).
    pub fn at(&self, base: &str) -> Api {
        Api {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    /// A client sending `Authorization: Bearer secret` and no cookies.
    pub fn with_token(base: &str, secret: &str) -> Api {
        Api {
            bearer: Some(secret.to_owned()),
            ..Api::new(base)
        }
    }

    /// An open `text/event-stream` answer to `GET path` (asserted 200).
    pub async fn event_stream(&self, path: &str) -> reqwest::Response {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream"),
            "{path}"
        );
        response
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("origin", &self.base);
        if let Some(token) = &self.bearer {
            request = request.bearer_auth(token);
        }
        request
    }

    /// The page at `path`, asserted 200.
    pub async fn page(&self, path: &str) -> String {
        let (status, html) = self.raw("GET", path, None).await;
        assert_eq!(status, 200, "{path}: {html}");
        html
    }

    /// Sends a request; the status and the body as text.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Sends a request whose answer must be JSON (or empty).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, text) = self.raw(method, path, body).await;
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status} with a non-JSON body: {text}"))
        };
        (status, json)
    }

    /// Like `send`, but a body that is not JSON comes back as a string.
    pub async fn send_lenient(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (status, text) = self.raw(method, path, body).await;
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send("POST", path, Some(body)).await
    }

    /// Registers (or, when taken, signs in) and returns the user's id.
    pub async fn sign_up(&self, username: &str) -> i64 {
        let creds = serde_json::json!({"username": username, "password": "correct horse"});
        let (status, body) = self.post("/api/v1/auth/register", creds.clone()).await;
        assert_eq!(status, 201, "register {username}: {body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn sign_in(&self, username: &str) {
        let creds = serde_json::json!({"username": username, "password": "correct horse"});
        let (status, body) = self.post("/api/v1/auth/login", creds).await;
        assert_eq!(status, 200, "login {username}: {body}");
    }

    /// Creates a group (top level when `parent` is None); returns its id.
    pub async fn group(&self, slug: &str, parent: Option<i64>) -> i64 {
        let (status, body) = self
            .post(
                "/api/v1/groups",
                serde_json::json!({"slug": slug, "parent_id": parent}),
            )
            .await;
        assert_eq!(status, 201, "create group {slug}: {body}");
        body["id"].as_i64().unwrap()
    }

    /// As an instance admin (only admins make top-level groups by default):
    /// creates a top-level group, makes `owner` its owner and leaves it, so
    /// the group is as if `owner` had made it. `self_id` is this admin's id.
    pub async fn group_for(&self, self_id: i64, slug: &str, owner: &str) -> i64 {
        let group = self.group(slug, None).await;
        let (status, body) = self
            .post(
                &format!("/api/v1/groups/{group}/members"),
                serde_json::json!({"username": owner, "role": "owner"}),
            )
            .await;
        assert_eq!(status, 201, "make {owner} owner of {slug}: {body}");
        let (status, body) = self
            .send(
                "DELETE",
                &format!("/api/v1/groups/{group}/members/{self_id}"),
                None,
            )
            .await;
        assert_eq!(status, 204, "leave {slug}: {body}");
        group
    }

    pub async fn project(&self, slug: &str, group: i64) -> i64 {
        let (status, body) = self
            .post(
                "/api/v1/projects",
                serde_json::json!({"slug": slug, "group_id": group}),
            )
            .await;
        assert_eq!(status, 201, "create project {slug}: {body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn token(&self, scope: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/me/tokens",
                serde_json::json!({"name": format!("{scope} token"), "scope": scope}),
            )
            .await;
        assert_eq!(status, 201, "create token: {body}");
        body["secret"].as_str().unwrap().to_owned()
    }
}

/// Runs `async fn $name(backend: Backend)` once on each listed backend, as
/// tests named `$name::sqlite`, `$name::postgres`, ….
#[macro_export]
macro_rules! on_backends {
    ($name:ident: $($test:ident => $backend:ident),+) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$name($crate::common::Backend::$backend).await;
                }
            )+
        }
    };
}

/// On SQLite, PostgreSQL and MariaDB: `$name::sqlite`, `::postgres`, `::mysql`.
#[macro_export]
macro_rules! on_all_backends {
    ($name:ident) => {
        $crate::on_backends!($name: sqlite => Sqlite, postgres => Postgres, mysql => MySql);
    };
}

/// For tests whose subject does not depend on the database (the step
/// sandbox): SQLite and PostgreSQL only.
#[macro_export]
macro_rules! on_sqlite_and_postgres {
    ($name:ident) => {
        $crate::on_backends!($name: sqlite => Sqlite, postgres => Postgres);
    };
}
