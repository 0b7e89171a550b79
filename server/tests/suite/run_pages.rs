//! A run's page from outside: its graph and steps are in the markup and not
//! again in the hydration data; a big run lists its first 100 rows and all
//! of them on asking; a finished run's page, kept for the next view, still
//! shows each viewer their own rights, and a re-run or its workflow's
//! deletion is seen at once; the
//! browser's own fetch of the data gets it whole; a hostile log stays text
//! in the page and in the log island's data.

use serde_json::json;

use crate::common::engine::{owner, save, start, wait_end};
use crate::common::{Backend, TestApp};

fn rows(page: &str) -> usize {
    page.matches("<tr data-task=").count()
}

/// Everything inside the page's `<script>` elements.
/// The data of the page's islands (their props, in attributes).
fn island_data(page: &str) -> String {
    page.split("data-props=\"")
        .skip(1)
        .filter_map(|s| s.split_once('"').map(|(inside, _)| inside))
        .collect()
}

fn scripts(page: &str) -> String {
    page.split("<script")
        .skip(1)
        .filter_map(|s| {
            s.split_once('>')
                .and_then(|(_, rest)| rest.split_once("</script>"))
        })
        .map(|(inside, _)| inside)
        .collect()
}

#[tokio::test]
async fn a_finished_runs_page_is_drawn_once_and_shows_each_viewer_their_own() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, project) = owner(&app).await;
    let mut source = String::from("tasks:\n");
    for n in 0..120 {
        source.push_str(&format!("  task_{n:03}:\n    run: 'true'\n"));
    }
    assert_eq!(save(&alice, project, "wide", &source).await.0, 200);
    let run = start(&alice, project, "wide", json!({})).await;
    assert_eq!(wait_end(&alice, run).await["state"], "success");

    let path = format!("/runs/{run}");
    let first = alice.page(&path).await;
    assert_eq!(first.matches("class=\"dag-node\"").count(), 120);
    assert_eq!(rows(&first), 100);
    assert!(first.contains("id=\"steps-more\"") && first.contains("100 of 120 steps shown"));
    assert!(first.contains("id=\"rerun-step\""), "the owner may re-run");
    assert!(
        !scripts(&first).contains("task_000"),
        "no task in the hydration data"
    );
    let islands = island_data(&first);
    assert!(
        !islands.is_empty() && !islands.contains("task_000"),
        "no task in the islands' data: {islands}"
    );
    assert_eq!(rows(&alice.page(&format!("{path}?steps=all")).await), 120);
    // Anything else asks for nothing more, and is not echoed.
    for odd in [
        "ALL",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "all%00",
        "1e9",
    ] {
        let shown = alice.page(&format!("{path}?steps={odd}")).await;
        assert_eq!(rows(&shown), 100, "{odd}");
        assert!(!shown.contains("<script>alert(1)"), "{odd}");
    }

    // A viewer of the group sees the same run without the owner's buttons;
    // the owner, after them, still has them.
    let vic = app.browser();
    vic.sign_up("vic").await;
    let (_, groups) = alice.get("/api/v1/groups").await;
    let group = groups["items"][0]["id"].as_i64().unwrap();
    let (status, body) = alice
        .post(
            &format!("/api/v1/groups/{group}/members"),
            json!({"username": "vic", "role": "viewer"}),
        )
        .await;
    assert!(status == 200 || status == 201, "{body}");
    let seen = vic.page(&path).await;
    assert_eq!(rows(&seen), 100);
    assert!(!seen.contains("id=\"rerun-step\"") && !seen.contains("id=\"rerun-all\""));
    let again = alice.page(&path).await;
    assert!(again.contains("id=\"rerun-step\"") && again.contains("id=\"rerun-all\""));
    // A stranger sees nothing of it, kept or not.
    let eve = app.browser();
    eve.sign_up("eve").await;
    let (_, denied) = eve.raw("GET", &path, None).await;
    assert!(!denied.contains("task_000"), "{denied}");

    // A re-run is on the page as soon as it ends.
    let (status, body) = alice
        .post(
            &format!("/api/v1/runs/{run}/retry"),
            json!({"steps": "all"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(wait_end(&alice, run).await["state"], "success");
    let rerun = alice.page(&path).await;
    let row = rerun
        .split("<tr data-task=\"task_000\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(row.contains("<td>2</td>"), "attempt 2: {row}");

    // The browser's own fetch gets the data whole; asking for it drawn on
    // the server gets none of it.
    for (drawn, whole) in [("false", true), ("true", false)] {
        let response = alice
            .request(reqwest::Method::POST, "/ui/fn/run")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("run={run}&drawn_on_server={drawn}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        assert_eq!(body.contains("task_119"), whole, "{drawn}: {body}");
    }

    // Deleting the workflow changes nothing of the run, and the kept page
    // says so at once.
    assert!(alice.page(&path).await.contains(">wide</a>"));
    let (status, body) = alice
        .send(
            "DELETE",
            &format!("/api/v1/projects/{project}/workflows/wide"),
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(alice.page(&path).await.contains("(deleted workflow)"));
    app.stop().await;
}

#[tokio::test]
async fn a_hostile_log_stays_text_in_the_page_and_in_its_island_data() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, project) = owner(&app).await;
    // The log viewer's first chunk is drawn as rows and also goes, as JSON,
    // into its island's data: an attribute a quote would end.
    let source = "tasks:\n  talk:\n    run: |\n      echo '\"><img src=x onerror=alert(1)>'\n      echo '</script><script>alert(2)</script>'\n";
    assert_eq!(save(&alice, project, "hostile", source).await.0, 200);
    let run = start(&alice, project, "hostile", json!({})).await;
    assert_eq!(wait_end(&alice, run).await["state"], "success");

    let page = alice.page(&format!("/runs/{run}?step=talk")).await;
    assert!(page.contains("id=\"log\""), "the log is open: {page}");
    assert!(
        island_data(&page).contains("onerror=alert(1)"),
        "the first chunk is in the log island's data"
    );
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<script>alert(2)"), "{page}");
}
