//! Accounts hot paths, release build: argon2id hash and verify time (what a
//! login costs), and the effective-role lookup and full authorization of a
//! project 10 groups deep, on SQLite, PostgreSQL and MariaDB.
//!
//! Run: `cargo bench -p kiln-server --bench accounts` (databases as in the
//! test suite). HTTP throughput is measured by `bench/accounts` with wrk.

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::error::Error;
use std::time::{Duration, Instant};

use common::{Backend, TestDb};
use kiln_core::access::{Action, Role};
use kiln_core::accounts::NodeKind;
use kiln_server::accounts::nodes::{self, NewNode};
use kiln_server::accounts::users::{self, NewUser};
use kiln_server::accounts::{Principal, UserPrincipal, authorize, members, passwords};
use kiln_server::db::{self, Database};

const LOOKUPS: usize = 2000;

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    format!(
        "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

async fn hashing() -> Result<(), Box<dyn Error>> {
    let mut hash_times = Vec::new();
    let mut verify_times = Vec::new();
    let mut hash = String::new();
    for _ in 0..20 {
        let started = Instant::now();
        hash = passwords::hash("correct horse battery".into()).await?;
        hash_times.push(started.elapsed());
    }
    for _ in 0..20 {
        let started = Instant::now();
        passwords::verify("correct horse battery".into(), Some(hash.clone())).await?;
        verify_times.push(started.elapsed());
    }
    println!(
        "argon2id (m=19 MiB, t=2, p=1) hash:   {}",
        summary(hash_times)
    );
    println!(
        "argon2id verify (= one login):        {}",
        summary(verify_times)
    );
    Ok(())
}

async fn deep_tree(name: &str, database: &Database) -> Result<(), Box<dyn Error>> {
    let conn = &database.conn;
    let user = users::create(
        conn,
        NewUser {
            username: "bench".into(),
            password: "correct horse".into(),
            admin: false,
        },
    )
    .await?;
    let mut parent = None;
    for depth in 0..10 {
        let node = nodes::create(
            conn,
            NewNode {
                kind: NodeKind::Group,
                parent: parent.clone(),
                slug: format!("level{depth}"),
                name: None,
                description: None,
                visibility: None,
            },
        )
        .await?;
        if depth == 0 {
            members::grant(conn, &node, "bench", Role::Developer).await?;
        }
        parent = Some(node);
    }
    let project = nodes::create(
        conn,
        NewNode {
            kind: NodeKind::Project,
            parent,
            slug: "app".into(),
            name: None,
            description: None,
            visibility: None,
        },
    )
    .await?;
    let mut role_times = Vec::with_capacity(LOOKUPS);
    for _ in 0..LOOKUPS {
        let started = Instant::now();
        let role = members::effective(conn, user.id, &project.full_path).await?;
        role_times.push(started.elapsed());
        assert_eq!(role, Some(Role::Developer));
    }
    let principal = Principal::User(UserPrincipal {
        id: user.id,
        username: user.username.clone(),
        is_admin: false,
        token: None,
    });
    let mut auth_times = Vec::with_capacity(LOOKUPS);
    for _ in 0..LOOKUPS {
        let started = Instant::now();
        authorize(conn, &principal, NodeKind::Project, project.id, Action::Run).await?;
        auth_times.push(started.elapsed());
    }
    println!(
        "{name:8} effective role, project 11 levels deep: {}",
        summary(role_times)
    );
    println!(
        "{name:8} authorize (load node + role + decide):  {}",
        summary(auth_times)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    hashing().await?;
    println!("{LOOKUPS} lookups each, one connection pool, release build");
    for (name, backend) in [
        ("sqlite", Backend::Sqlite),
        ("postgres", Backend::Postgres),
        ("mariadb", Backend::MySql),
    ] {
        let test_db = TestDb::create(backend).await;
        let config = test_db.config();
        let database = kiln_server::serve::open_database(&config).await?;
        db::migrate::up(&database).await?;
        deep_tree(name, &database).await?;
        database.close().await;
    }
    Ok(())
}
