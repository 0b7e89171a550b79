//! The editor's graph of the text being typed (`/ui/fn/draft_graph`), from
//! outside: it draws what loads, answers "no graph" for what does not (a
//! 5,000-deep YAML included) without falling over, refuses a body past the
//! request limit, and shows nothing of a project the caller cannot see.

use serde_json::Value;

use crate::common::engine::{developer_elsewhere, owner};
use crate::common::{Api, Backend, TestApp};

/// The form a server function call sends, `source` escaped.
fn form(project: i64, source: &str) -> String {
    let escaped: String = url::form_urlencoded::byte_serialize(source.as_bytes()).collect();
    format!("project={project}&source={escaped}")
}

async fn ask(api: &Api, project: i64, source: &str) -> (u16, String) {
    let response = api
        .request(reqwest::Method::POST, "/ui/fn/draft_graph")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(project, source))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_draft_graph_draws_what_loads_and_nothing_else() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, project) = owner(&app).await;

    let (status, text) = ask(
        &alice,
        project,
        "tasks:\n  a:\n    run: x\n  b:\n    needs: [a]\n    run: y\n",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    let graph = &answer["Ok"];
    let tasks: Vec<&str> = graph["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["task"].as_str().unwrap())
        .collect();
    assert_eq!(tasks, ["a", "b"]);
    assert_eq!(graph["edges"], serde_json::json!([[0, 1]]));

    // Texts that do not load: no graph, and the server carries on.
    let deep = format!("tasks:\n{}", "- ".repeat(5_000));
    for broken in [
        "tasks:\n  b:\n    needs: [nope]\n",
        "{{{{",
        "",
        deep.as_str(),
    ] {
        let (status, text) = ask(&alice, project, broken).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            serde_json::json!({"Ok": null})
        );
    }
    // Past the request limit: refused, not read.
    let (status, _) = ask(&alice, project, &"x".repeat(3 << 20)).await;
    assert!((400..500).contains(&status), "a 3 MiB draft got {status}");

    // Another's project, or nobody signed in: nothing drawn.
    let (bob, _, _, bobs_b) = developer_elsewhere(&app, &alice).await;
    let stranger = app.browser();
    stranger.sign_up("mallory").await;
    let (status, text) = ask(&stranger, bobs_b, "tasks:\n  a:\n    run: x\n").await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("Err") && !text.contains("nodes"), "{text}");
    let (_, text) = ask(&app.browser(), project, "tasks:\n  a:\n    run: x\n").await;
    assert!(text.contains("Err") && !text.contains("nodes"), "{text}");
    let (_, text) = ask(&bob, bobs_b, "tasks:\n  a:\n    run: x\n").await;
    assert!(text.contains("nodes"), "{text}");
    assert_eq!(alice.send_lenient("GET", "/healthz", None).await.0, 200);
    app.stop().await;
}
