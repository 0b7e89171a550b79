//! Runs across projects, on SQLite, PostgreSQL and MariaDB: `GET
//! /api/v1/runs` lists only the runs of projects the caller can see (an
//! admin all of them, a member their own, a stranger none, and naming a
//! hidden project finds nothing), newest first, a page at a time, filtered
//! by state, kind, project and starter, with bad filters named; the home
//! page and `/workflows` show the same runs to the same people, and `/runs`
//! shrugs off an edited address.

use serde_json::{Value, json};

use crate::common::engine::{developer_elsewhere, owner, save, start, wait_end};
use crate::common::{Backend, TestApp};

const OK: &str = "tasks:\n  only:\n    run: echo ok\n";
const BAD: &str = "tasks:\n  only:\n    run: exit 3\n";

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

async fn runs_across_projects(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (alice, team_app) = owner(&app).await;
    assert_eq!(save(&alice, team_app, "ok", OK).await.0, 200);
    assert_eq!(save(&alice, team_app, "bad", BAD).await.0, 200);
    let ok = start(&alice, team_app, "ok", json!({})).await;
    let bad = start(&alice, team_app, "bad", json!({})).await;
    wait_end(&alice, ok).await;
    assert_eq!(wait_end(&alice, bad).await["state"], "failed");

    let (bob, bob_id, _, bobs_b) = developer_elsewhere(&app, &alice).await;
    assert_eq!(save(&bob, bobs_b, "ok", OK).await.0, 200);
    let his = start(&bob, bobs_b, "ok", json!({})).await;
    wait_end(&bob, his).await;
    let mallory = app.browser();
    mallory.sign_up("mallory").await;

    // Each sees what they may, newest first, with the project's path.
    let (status, all) = alice.get("/api/v1/runs").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), vec![his, bad, ok]);
    assert_eq!(all["items"][0]["project"], "bobs/b");
    assert_eq!(all["items"][1]["project"], "team/app");
    assert_eq!(all["items"][1]["workflow"], "bad");
    assert_eq!(ids(&bob.get("/api/v1/runs").await.1), vec![his]);
    assert_eq!(ids(&mallory.get("/api/v1/runs").await.1), Vec::<i64>::new());
    assert_eq!(app.browser().get("/api/v1/runs").await.0, 401);

    // Filters, and a page at a time.
    for (query, want) in [
        ("state=failed", vec![bad]),
        ("state=success", vec![his, ok]),
        ("kind=pipeline", vec![]),
        ("kind=workflow", vec![his, bad, ok]),
        ("trigger=schedule", vec![]),
        (&format!("project={team_app}") as &str, vec![bad, ok]),
        (&format!("created_by={bob_id}"), vec![his]),
    ] {
        let (status, list) = alice.get(&format!("/api/v1/runs?{query}")).await;
        assert_eq!(status, 200, "{query}: {list}");
        assert_eq!(ids(&list), want, "{query}");
    }
    // A project bob cannot see is as empty as one that does not exist.
    let (_, hidden) = bob.get(&format!("/api/v1/runs?project={team_app}")).await;
    assert_eq!(ids(&hidden), Vec::<i64>::new());
    let (_, first) = alice.get("/api/v1/runs?limit=2").await;
    assert_eq!(ids(&first), vec![his, bad]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = alice
        .get(&format!("/api/v1/runs?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest), vec![ok]);
    for (query, field) in [
        ("state=sideways", "state"),
        ("kind=cron", "kind"),
        ("trigger=%3Cscript%3E", "trigger"),
        ("limit=0", "limit"),
        ("project=1%20OR%201", "project"),
        ("created_by=99999999999999999999", "created_by"),
    ] {
        let (status, answer) = alice.get(&format!("/api/v1/runs?{query}")).await;
        assert_eq!(status, 422, "{query}: {answer}");
        assert!(answer.to_string().contains(field), "{query}: {answer}");
    }

    // The home page: the same runs to the same people.
    let (status, home) = alice.raw("GET", "/", None).await;
    assert_eq!(status, 200);
    assert!(home.contains("id=\"home-failures\""), "{home}");
    assert!(home.contains(&format!("href=\"/runs/{bad}\"")), "{home}");
    assert!(home.contains("bobs/b"), "{home}");
    let (_, his_home) = bob.raw("GET", "/", None).await;
    assert!(
        his_home.contains(&format!("href=\"/runs/{his}\"")),
        "{his_home}"
    );
    assert!(!his_home.contains("team/app"), "{his_home}");
    assert!(
        !his_home.contains(&format!("href=\"/runs/{bad}\"")),
        "{his_home}"
    );
    let (_, anonymous) = app.browser().raw("GET", "/", None).await;
    assert!(anonymous.contains("Dashboard"), "{anonymous}");
    assert!(!anonymous.contains("/runs/"), "{anonymous}");

    // `/runs` with its filters, and with an address edited by hand.
    let (status, failed) = alice.raw("GET", "/runs?state=failed", None).await;
    assert_eq!(status, 200);
    assert!(
        failed.contains(&format!("href=\"/runs/{bad}\"")),
        "{failed}"
    );
    assert!(
        !failed.contains(&format!("href=\"/runs/{ok}\"")),
        "{failed}"
    );
    let (status, mine) = bob.raw("GET", "/runs?who=me", None).await;
    assert_eq!(status, 200);
    assert!(mine.contains(&format!("href=\"/runs/{his}\"")), "{mine}");
    let (status, edited) = alice
        .raw(
            "GET",
            "/runs?state=%22%3E%3C%2Fscript%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&cursor=1%20OR%201&project=x%22%27%3E",
            None,
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    // Neither in the markup nor in the list's island data (an attribute
    // the quote would end).
    assert!(!edited.contains("<img src=x"), "{edited}");
    assert!(edited.contains(&format!("href=\"/runs/{ok}\"")), "{edited}");
    // A project's runs page: the same filters, typed; a value the form does
    // not offer is left out (as on `/runs`), never echoed as markup.
    let (status, failed) = alice
        .raw(
            "GET",
            &format!("/projects/{team_app}/runs?state=failed"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        failed.contains(&format!("href=\"/runs/{bad}\"")),
        "{failed}"
    );
    assert!(
        !failed.contains(&format!("href=\"/runs/{ok}\"")),
        "{failed}"
    );
    let (status, edited) = alice
        .raw(
            "GET",
            &format!("/projects/{team_app}/runs?state=done&trigger=%3Cimg%20src%3Dx%3E"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert!(!edited.contains("<img src=x"), "{edited}");
    assert!(edited.contains(&format!("href=\"/runs/{ok}\"")), "{edited}");
    assert!(
        edited.contains(&format!("href=\"/runs/{bad}\"")),
        "{edited}"
    );

    // `/workflows`: each workflow the viewer can see, with its newest run.
    let (status, listed) = alice.raw("GET", "/workflows", None).await;
    assert_eq!(status, 200);
    for expected in [
        "data-workflow=\"bad\"".to_owned(),
        format!("href=\"/runs/{bad}\""),
        format!("href=\"/runs/{his}\""),
        format!("href=\"/projects/{team_app}/workflows/ok#run-form\""),
    ] {
        assert!(listed.contains(&expected), "{expected}: {listed}");
    }
    let (_, his_list) = bob.raw("GET", "/workflows", None).await;
    assert!(
        his_list.contains(&format!("href=\"/runs/{his}\"")),
        "{his_list}"
    );
    assert!(!his_list.contains("team/app"), "{his_list}");
    let (_, none) = mallory.raw("GET", "/workflows", None).await;
    assert!(none.contains("No workflows yet"), "{none}");
    app.stop().await;
}
on_all_backends!(runs_across_projects);

/// The pages' data calls from the browser: a list read with no filter at
/// all (every field empty, so none is sent) is the unfiltered list, not an
/// error (the live home page and `/runs` make exactly this call).
#[tokio::test]
async fn the_run_lists_read_from_the_browser_with_no_filter() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, project) = owner(&app).await;
    for (path, body) in [
        ("/ui/fn/all-runs", String::new()),
        ("/ui/fn/runs", format!("project={project}")),
        ("/ui/fn/home", String::new()),
    ] {
        let response = alice
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        assert!(!text.contains("error deserializing"), "{path}: {text}");
    }
    app.stop().await;
}

/// What a hostile page or address sends to this sitting's new inputs: an
/// attempt that is not one of the step's reads the latest (not a 500), and
/// the colour-scheme form takes only its three values and goes back only
/// to a path on this site.
#[tokio::test]
async fn new_page_inputs_are_bounded() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (alice, project) = owner(&app).await;
    assert_eq!(save(&alice, project, "ok", OK).await.0, 200);
    let run = start(&alice, project, "ok", json!({})).await;
    wait_end(&alice, run).await;
    let form = |path: &'static str, body: String| {
        alice
            .request(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    for attempt in ["999", "-5", "0", "1"] {
        let response = form(
            "/ui/fn/log",
            format!("run={run}&task=only&attempt={attempt}&offset=0"),
        )
        .send()
        .await
        .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "attempt {attempt}: {text}");
        assert!(text.contains("\"attempt\":1"), "attempt {attempt}: {text}");
    }

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (value, cookie) in [
        ("dark", "kiln_theme=dark;"),
        ("dark%0d%0aSet-Cookie:%20x=1", "kiln_theme=system;"),
        ("%22%3E%3Cscript%3E", "kiln_theme=system;"),
    ] {
        let response = client
            .post(app.url("/ui/theme"))
            .header("origin", app.base.as_str())
            .header("referer", "https://evil.example//evil.example/runs")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("theme={value}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{value}");
        let set: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
        assert_eq!(set.len(), 1, "{value}: {set:?}");
        assert!(
            set[0].to_str().unwrap().starts_with(cookie),
            "{value}: {set:?}"
        );
        let location = response.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with('/') && !location.starts_with("//"),
            "{location}"
        );
    }
    app.stop().await;
}
