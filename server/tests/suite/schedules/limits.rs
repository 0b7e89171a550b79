//! What bounds schedules: a project's limit (also under concurrent
//! creation), the firings kept, and the lease on a pass being prepared.

use super::*;

/// A project cannot flood the scheduler, and history is bounded.
async fn limits_hold(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.schedules_per_project = 2;
        c.schedule_firings_kept = 3;
    })
    .await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    let every = |name: &str| json!({"name": name, "cron": "* * * * * *", "workflow": "hello", "concurrency": "allow"});
    let id = create(&api, project, every("a")).await["id"]
        .as_i64()
        .unwrap();
    create(
        &api,
        project,
        json!({"name": "b", "cron": "@yearly", "workflow": "hello"}),
    )
    .await;
    let (status, answer) = api
        .post(&format!("/api/v1/projects/{project}/schedules"), every("c"))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer.to_string().contains("at most 2 schedules"),
        "{answer}"
    );
    wait_firings(&api, id, Duration::from_secs(30), |f| f.len() >= 6).await;
    // Old firings go at the next pruning (one runs at start).
    let app = app.restart().await;
    let api = app.browser();
    api.sign_in("alice").await;
    wait_firings(&api, id, Duration::from_secs(10), |f| f.len() <= 5).await;
    app.stop().await;
}
on_sqlite_and_postgres!(limits_hold);

/// Creations at the same moment cannot pass the limit together.
async fn the_limit_holds_under_concurrent_creation(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.schedules_per_project = 3).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    let attempts = (0..12).map(|n| {
        let api = api.clone();
        async move {
            api.post(
                &format!("/api/v1/projects/{project}/schedules"),
                json!({"name": format!("s{n}"), "cron": "@yearly", "workflow": "hello"}),
            )
            .await
            .0
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let made = statuses.iter().filter(|&&s| s == 201).count();
    assert_eq!(made, 3, "{statuses:?}");
    assert!(
        statuses.iter().all(|&s| s == 201 || s == 422),
        "{statuses:?}"
    );
    app.stop().await;
}
on_all_backends!(the_limit_holds_under_concurrent_creation);

/// The lease on a pass being prepared: one holder at a time (who may
/// renew it), another only once it has expired, and the claim of the pass
/// ends it.
async fn a_pass_is_prepared_under_one_lease(backend: Backend) {
    use kiln_server::schedules::store;
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    assert_eq!(save(&api, project, "hello", HELLO).await.0, 200);
    // Not due for months: the server's own loop leaves it alone.
    let made = create(
        &api,
        project,
        json!({"name": "later", "cron": "0 0 1 1 *", "workflow": "hello"}),
    )
    .await;
    let id = made["id"].as_i64().unwrap();
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let row = store::get(&db, id).await.unwrap().unwrap();
    let from = row.next_at_ms.unwrap();
    let now = 1_000;
    assert!(
        store::take_lease(&db, id, from, "a", now, now + 500)
            .await
            .unwrap()
    );
    assert!(
        !store::take_lease(&db, id, from, "b", now + 100, now + 600)
            .await
            .unwrap()
    );
    assert!(
        store::take_lease(&db, id, from, "a", now + 200, now + 700)
            .await
            .unwrap()
    );
    // Only for the pass that is due: not for another instant.
    assert!(
        !store::take_lease(&db, id, from + 1, "a", now, now)
            .await
            .unwrap()
    );
    assert!(
        store::take_lease(&db, id, from, "b", now + 701, now + 1200)
            .await
            .unwrap()
    );
    assert!(
        store::claim(&db, id, from, Some(from + 1), now + 800)
            .await
            .unwrap()
    );
    let row = store::get(&db, id).await.unwrap().unwrap();
    assert_eq!((row.lease_by, row.lease_until_ms), (None, None));
    app.stop().await;
}
on_all_backends!(a_pass_is_prepared_under_one_lease);
