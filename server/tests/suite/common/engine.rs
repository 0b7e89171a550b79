//! Helpers of the engine tests: a signed-in owner with a project, saving
//! and starting workflows, waiting for runs, reading steps and logs.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Api, TestApp};

/// A signed-in owner with a project.
pub async fn owner(app: &TestApp) -> (Api, i64) {
    let api = app.browser();
    api.sign_up("alice").await;
    let group = api.group("team", None).await;
    let project = api.project("app", group).await;
    (api, project)
}

/// Someone else, `bob`: a developer on a group `bobs` that `owner` makes
/// (with a project `b`). Returns bob, his id, the group and the project.
pub async fn developer_elsewhere(app: &TestApp, owner: &Api) -> (Api, i64, i64, i64) {
    let bob = app.browser();
    let bob_id = bob.sign_up("bob").await;
    let bobs = owner.group("bobs", None).await;
    let bobs_b = owner.project("b", bobs).await;
    let (status, answer) = owner
        .post(
            &format!("/api/v1/groups/{bobs}/members"),
            json!({"username": "bob", "role": "developer"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{answer}");
    (bob, bob_id, bobs, bobs_b)
}

pub async fn save(api: &Api, project: i64, name: &str, source: &str) -> (u16, Value) {
    api.send(
        "PUT",
        &format!("/api/v1/projects/{project}/workflows/{name}"),
        Some(json!({ "source": source })),
    )
    .await
}

/// Sets project `project`'s secret `name` to `value`.
pub async fn set_secret(api: &Api, project: i64, name: &str, value: &str) {
    let (status, body) = api
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/secrets/{name}"),
            Some(serde_json::json!({ "value": value })),
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

pub async fn start(api: &Api, project: i64, name: &str, params: Value) -> i64 {
    let (status, body) = api
        .post(
            &format!("/api/v1/projects/{project}/workflows/{name}/runs"),
            json!({ "params": params }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Polls the run until `done` says so (default: it has ended).
pub async fn wait_until(
    api: &Api,
    run: i64,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let began = Instant::now();
    loop {
        let (status, body) = api.get(&format!("/api/v1/runs/{run}")).await;
        assert_eq!(status, 200, "{body}");
        if done(&body) {
            return body;
        }
        assert!(
            began.elapsed() < limit,
            "run {run} not there after {limit:?}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn wait_end(api: &Api, run: i64) -> Value {
    wait_until(api, run, Duration::from_secs(60), |r| {
        r["state"] != "running"
    })
    .await
}

pub fn step<'a>(run: &'a Value, task: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["task"] == task)
        .unwrap_or_else(|| panic!("no step {task} in {run:#}"))
}

pub async fn log(api: &Api, run: i64, task: &str) -> String {
    log_at(api, &format!("/api/v1/runs/{run}/steps/{task}/log")).await
}

/// The log of one earlier attempt of a step.
pub async fn attempt_log(api: &Api, run: i64, task: &str, attempt: u32) -> String {
    log_at(
        api,
        &format!("/api/v1/runs/{run}/steps/{task}/log?attempt={attempt}"),
    )
    .await
}

async fn log_at(api: &Api, path: &str) -> String {
    let response = api
        .request(reqwest::Method::GET, path)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// Every file below `dir`.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Grants worker `label` to the group holding `project` (`api` must be an
/// instance admin).
pub async fn grant_label(api: &Api, label: &str, project: i64) {
    let (_, body) = api.get(&format!("/api/v1/projects/{project}")).await;
    let group = body["parent_id"].as_i64().unwrap();
    let (status, body) = api
        .send(
            "PUT",
            &format!("/api/v1/worker-labels/{label}/groups/{group}"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

/// PIDs of the host's processes whose command line has `marker`.
pub fn processes_running(marker: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            // `sleep MARKER` itself, not the shell or sandbox around it.
            (args.first().is_some_and(|a| a.ends_with(b"sleep"))
                && args.contains(&marker.as_bytes()))
            .then_some(pid)
        })
        .collect()
}

/// Runs `sql` on the queue's jobs table of `app`'s backend, written with
/// `{jobs}` for the table's name (apalis' on SQLite and PostgreSQL,
/// Kiln's own on MySQL); returns the rows it affected, or the first
/// column of its one row for a `SELECT COUNT(*)`.
pub async fn on_jobs_table(app: &TestApp, backend: super::Backend, sql: &str) -> i64 {
    use kiln_server::db::Pool;
    let table = match backend {
        super::Backend::Sqlite => "Jobs",
        super::Backend::Postgres => "apalis.jobs",
        super::Backend::MySql => "kiln_jobs",
    };
    let sql = sqlx::AssertSqlSafe(sql.replace("{jobs}", table));
    let count = sql.0.trim_start().starts_with("SELECT");
    macro_rules! on {
        ($pool:expr) => {
            if count {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one($pool)
                    .await
                    .unwrap()
            } else {
                let done = sqlx::raw_sql(sql).execute($pool).await.unwrap();
                i64::try_from(done.rows_affected()).unwrap()
            }
        };
    }
    match &app.server.database().pool {
        Pool::Sqlite(pool) => on!(pool),
        Pool::Postgres(pool) => on!(pool),
        Pool::MySql(pool) => on!(pool),
    }
}
