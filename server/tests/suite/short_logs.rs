//! Short step logs, kept in their step's row with its end instead of as a
//! file of their own: read like any log (the API's text, its live stream,
//! the run page's reader), masked like any log, and every attempt's still
//! there after a re-run moves the row on to the next attempt.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::common::engine::{
    attempt_log, log, owner, save, set_secret, start, step, wait_end, walk,
};
use crate::common::{Api, Backend, TestApp};

const SOURCE: &str = r#"
tasks:
  quiet:
    secrets: [TOKEN]
    run: echo "quiet says hi, token $TOKEN"
  chatty:
    run: seq 1 2000
  broken:
    run: echo "about to fail"; exit 3
"#;

/// The short logs the database keeps, as text.
async fn kept(app: &TestApp) -> Vec<String> {
    let conn = &app.server.database().conn;
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT short_log FROM kiln_steps WHERE short_log IS NOT NULL",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let bytes: Vec<u8> = row.try_get("", "short_log").unwrap();
            String::from_utf8(bytes).unwrap()
        })
        .collect()
}

async fn streamed(api: &Api, path: &str, resume: Option<&str>) -> String {
    let mut request = api
        .request(reqwest::Method::GET, path)
        .header("accept", "text/event-stream");
    if let Some(id) = resume {
        request = request.header("last-event-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn short_logs_live_in_their_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let secret = "s3cr3t-sh0rt-l0g";
    set_secret(&api, project, "TOKEN", secret).await;
    assert_eq!(save(&api, project, "mixed", SOURCE).await.0, 200);
    let run = start(&api, project, "mixed", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "failed", "{done:#}");
    assert_eq!(step(&done, "quiet")["state"], "success");

    // Only the long log is a file; the two short ones are in their rows,
    // masked.
    let logs = app.db.data_dir().join("logs");
    let files = walk(&logs);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        std::fs::read_to_string(&files[0])
            .unwrap()
            .contains(" O 2000\n")
    );
    let rows = kept(&app).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| !r.contains(secret)), "{rows:?}");

    let quiet = log(&api, run, "quiet").await;
    assert!(quiet.contains(" O quiet says hi, token ***\n"), "{quiet}");
    assert!(quiet.contains("[kiln] quiet attempt 1 on"), "{quiet}");
    assert!(quiet.ends_with(" K [kiln] succeeded\n"), "{quiet}");
    let broken = log(&api, run, "broken").await;
    assert!(broken.contains(" O about to fail\n"), "{broken}");
    assert!(
        broken.ends_with(" K [kiln] failed: exited with code 3\n"),
        "{broken}"
    );
    assert!(log(&api, run, "chatty").await.contains(" O 2000\n"));

    // From an offset, live, resumed, and through the run page's reader.
    let path = format!("/api/v1/runs/{run}/steps/quiet/log");
    let (_, tail) = quiet.split_at(10);
    let from = api
        .request(reqwest::Method::GET, &format!("{path}?offset=10"))
        .send()
        .await
        .unwrap();
    assert_eq!(from.headers()["x-kiln-log-offset"], quiet.len().to_string());
    assert_eq!(from.text().await.unwrap(), tail);
    // Offsets past the end, from a hostile client, give nothing: from the
    // row and from a file alike, as text, live and on the page's reader.
    let huge = u64::MAX.to_string();
    for task in ["quiet", "chatty"] {
        let past = api
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/runs/{run}/steps/{task}/log?offset={huge}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(past.status(), 200, "{task}");
        assert_eq!(past.text().await.unwrap(), "", "{task}");
        let live_past = streamed(
            &api,
            &format!("/api/v1/runs/{run}/steps/{task}/log"),
            Some(&huge),
        )
        .await;
        assert!(!live_past.contains("data: 1"), "{task}: {live_past}");
        assert!(live_past.contains("event: end"), "{task}: {live_past}");
        let page_past = api
            .request(reqwest::Method::POST, "/ui/fn/log")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("run={run}&task={task}&offset={huge}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page_past.status(), 200, "{task}");
        let page_past = page_past.text().await.unwrap();
        assert!(page_past.contains("\"text\":\"\""), "{task}: {page_past}");
    }
    let live = streamed(&api, &path, None).await;
    assert!(live.contains("quiet says hi, token ***"), "{live}");
    assert!(live.contains("event: end"), "{live}");
    let last_id = live.lines().rev().find_map(|l| l.strip_prefix("id: "));
    assert_eq!(last_id, Some(quiet.len().to_string().as_str()), "{live}");
    let resumed = streamed(&api, &path, last_id).await;
    assert!(!resumed.contains("quiet says hi"), "{resumed}");
    assert!(resumed.contains("event: end"), "{resumed}");
    let page = api
        .request(reqwest::Method::POST, "/ui/fn/log")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("run={run}&task=quiet&offset=0"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("quiet says hi, token ***"), "{page}");
    assert!(page.contains("\"done\":true"), "{page}");

    // A re-run of everything: attempt 1's short logs move to files, and
    // both attempts read as they were.
    let (status, body) = api
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let again = wait_end(&api, run).await;
    assert_eq!(step(&again, "quiet")["attempt"], 2, "{again:#}");
    assert_eq!(attempt_log(&api, run, "quiet", 1).await, quiet);
    assert_eq!(attempt_log(&api, run, "broken", 1).await, broken);
    let second = attempt_log(&api, run, "quiet", 2).await;
    assert!(second.contains("[kiln] quiet attempt 2 on"), "{second}");
    assert_eq!(log(&api, run, "quiet").await, second);
    // chatty twice, and the two short logs of attempt 1.
    let files = walk(&logs);
    assert_eq!(files.len(), 4, "{files:?}");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains(secret), "{}", file.display());
    }
    assert_eq!(kept(&app).await.len(), 2, "attempt 2's");
    app.stop().await;
}
on_all_backends!(short_logs_live_in_their_rows);
