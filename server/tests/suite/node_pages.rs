//! The group and project pages on a real server (SQLite). A group page's
//! subgroups and projects are listed as the API lists them for the same
//! viewer: inside a group the viewer holds a role on, everything is;
//! otherwise only what is internal or what they hold a role on (or below),
//! never a private sibling. A page's breadcrumbs and the viewer's role come
//! from one read of the node's lineage: every group above shows, whoever
//! holds roles there, and only the viewer's own roles count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::common::{Api, Backend, TestApp};

/// A server where users make top-level groups, and a signed-in browser
/// for each of `names`.
async fn people<const N: usize>(names: [&str; N]) -> (TestApp, [Api; N]) {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.allow_user_top_level_groups = true).await;
    let browsers = names.map(|_| app.browser());
    for (api, name) in browsers.iter().zip(names) {
        api.sign_up(name).await;
    }
    (app, browsers)
}

async fn node(api: &Api, path: &str, body: serde_json::Value) -> i64 {
    let (status, made) = api.post(path, body).await;
    assert_eq!(status, 201, "{made}");
    made["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_group_page_lists_what_its_viewer_may_see() {
    let (app, [alice, bob]) = people(["alice", "bob"]).await;

    let team = node(
        &alice,
        "/api/v1/groups",
        json!({"slug": "team", "visibility": "internal"}),
    )
    .await;
    let group = |slug: &str, visibility: &str| json!({"slug": slug, "parent_id": team, "visibility": visibility});
    node(&alice, "/api/v1/groups", group("open", "internal")).await;
    node(&alice, "/api/v1/groups", group("closed", "private")).await;
    let mine = node(&alice, "/api/v1/groups", group("mine", "private")).await;
    let project = |slug: &str, visibility: &str| json!({"slug": slug, "group_id": team, "visibility": visibility});
    node(&alice, "/api/v1/projects", project("pub", "internal")).await;
    node(&alice, "/api/v1/projects", project("priv", "private")).await;
    let (status, granted) = alice
        .post(
            &format!("/api/v1/groups/{mine}/members"),
            json!({"username": "bob", "role": "developer"}),
        )
        .await;
    assert_eq!(status, 201, "{granted}");

    let listed = [
        "/g/team/open",
        "/g/team/closed",
        "/g/team/mine",
        "/p/team/pub",
        "/p/team/priv",
    ];
    let seen = |html: &str| -> Vec<&str> {
        listed
            .iter()
            .copied()
            .filter(|href| html.contains(&format!("href=\"{href}\"")))
            .collect()
    };
    // The owner holds a role on the group: all of it.
    assert_eq!(seen(&alice.page("/g/team").await), listed);
    // Bob holds a role on one private subgroup only.
    assert_eq!(
        seen(&bob.page("/g/team").await),
        ["/g/team/open", "/g/team/mine", "/p/team/pub"]
    );
    // The same as the API's listings for him.
    for (path, kind) in [
        (format!("/api/v1/groups?parent_id={team}"), "g"),
        (format!("/api/v1/projects?group_id={team}"), "p"),
    ] {
        let (status, list) = bob.get(&path).await;
        assert_eq!(status, 200, "{list}");
        let mut hrefs: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("/{kind}/{}", n["full_path"].as_str().unwrap()))
            .collect();
        hrefs.sort();
        let mut expected: Vec<String> = seen(&bob.page("/g/team").await)
            .into_iter()
            .filter(|href| href.starts_with(&format!("/{kind}/")))
            .map(str::to_owned)
            .collect();
        expected.sort();
        assert_eq!(hrefs, expected, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn breadcrumbs_show_every_group_and_only_the_viewers_roles_count() {
    let (app, [alice, bob, carol]) = people(["alice", "bob", "carol"]).await;
    let team = alice.group("team", None).await;
    let sub = alice.group("sub", Some(team)).await;
    let project = alice.project("app", sub).await;
    for (node, who, role) in [
        (format!("projects/{project}"), "bob", "developer"),
        (format!("groups/{sub}"), "carol", "maintainer"),
        (format!("projects/{project}"), "carol", "viewer"),
    ] {
        let (status, granted) = alice
            .post(
                &format!("/api/v1/{node}/members"),
                json!({"username": who, "role": role}),
            )
            .await;
        assert_eq!(status, 201, "{granted}");
    }

    // Alice owns the top group, carol maintains the middle one: bob's
    // role is his own grant, not theirs; carol's is the highest of hers.
    for (who, role) in [
        (&alice, "owner"),
        (&bob, "developer"),
        (&carol, "maintainer"),
    ] {
        let (status, seen) = who.get(&format!("/api/v1/projects/{project}")).await;
        assert_eq!((status, seen["role"].as_str()), (200, Some(role)), "{seen}");
    }
    // The project page lists its workflows, read in the same request as
    // the page (its authorization reused), for bob as for its owner.
    let (status, saved) = alice
        .send(
            "PUT",
            &format!("/api/v1/projects/{project}/workflows/ci"),
            Some(json!({"source": "tasks:\n  a:\n    run: 'true'\n"})),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let link = format!("href=\"/projects/{project}/workflows/ci\"");
    for who in [&alice, &bob] {
        assert!(who.page("/p/team/sub/app").await.contains(&link));
    }
    // The crumbs name both groups, top first and once each, though bob
    // holds no role on either.
    for path in ["/p/team/sub/app", &format!("/projects/{project}/runs")] {
        let html = bob.page(path).await;
        assert_eq!(
            crumb_links(&html),
            ["/projects", "/g/team", "/g/team/sub", "/p/team/sub/app"],
            "{path}"
        );
    }
    app.stop().await;
}

/// The links of the page's breadcrumb trail, in order.
fn crumb_links(html: &str) -> Vec<String> {
    let start = html
        .find("<nav aria-label=\"Breadcrumb\"")
        .expect("a breadcrumb trail");
    let nav = &html[start..start + html[start..].find("</nav>").unwrap()];
    nav.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}
