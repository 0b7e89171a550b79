//! Payloads written from each host's documented format (trimmed to the
//! fields that matter, plus some that do not), and hostile variations.

use serde_json::json;

use super::signature::sign;
use super::*;

const A: &str = "1111111111111111111111111111111111111111";
const B: &str = "2222222222222222222222222222222222222222";
const Z: &str = "0000000000000000000000000000000000000000";

fn headers(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
        .collect();
    move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn read(provider: Provider, event_header: (&str, &str), body: serde_json::Value) -> HookEvent {
    let h = headers(&[event_header]);
    match provider.read(&h, body.to_string().as_bytes()) {
        Ok(event) => event,
        Err(e) => panic!("{e}"),
    }
}

fn gitea_push(reference: &str, before: &str, after: &str) -> serde_json::Value {
    json!({
        "ref": reference, "before": before, "after": after,
        "compare_url": "https://git.example/o/r/compare/a...b",
        "commits": [
            {"id": A, "message": "first\n", "author": {"name": "Ann", "email": "a@x", "username": "ann"}},
            {"id": after, "message": "fix: b [skip ci]\n", "author": {"name": "Bob", "email": "b@x", "username": "bob"}}
        ],
        "total_commits": 7,
        "head_commit": {"id": after, "message": "fix: b [skip ci]\n", "author": {"name": "Bob", "email": "b@x", "username": "bob"}},
        "repository": {"id": 1, "full_name": "o/r", "clone_url": "https://evil.example/other.git"},
        "pusher": {"login": "bob"}, "sender": {"login": "bob"}
    })
}

#[test]
fn gitea_pushes_new_branches_tags_and_deletions() {
    let event = read(
        Provider::Gitea,
        ("X-Gitea-Event", "push"),
        gitea_push("refs/heads/main", A, B),
    );
    assert_eq!(
        event,
        HookEvent::Push(Push {
            branch: "main".into(),
            before: Some(A.into()),
            after: B.into(),
            head: Commit {
                message: "fix: b [skip ci]\n".into(),
                author: "bob".into()
            },
        })
    );
    let new = read(
        Provider::Gitea,
        ("X-Gitea-Event", "push"),
        gitea_push("refs/heads/feature/x", Z, B),
    );
    assert!(matches!(new, HookEvent::Push(Push { before: None, .. })));
    let tag = read(
        Provider::Gitea,
        ("X-Gitea-Event", "push"),
        gitea_push("refs/tags/v1.0", Z, B),
    );
    assert!(matches!(tag, HookEvent::Tag { ref tag, .. } if tag == "v1.0"));
    let gone = read(
        Provider::Gitea,
        ("X-Gitea-Event", "push"),
        gitea_push("refs/heads/old", A, Z),
    );
    assert_eq!(gone, HookEvent::Deleted { name: "old".into() });
    let delete = read(
        Provider::Gitea,
        ("X-Gitea-Event", "delete"),
        json!({"ref": "old", "ref_type": "branch", "pusher_type": "user"}),
    );
    assert_eq!(delete.kind(), "delete");
    let create = read(
        Provider::Gitea,
        ("X-Gitea-Event", "create"),
        json!({"ref": "x", "ref_type": "branch"}),
    );
    assert_eq!(create.kind(), "ignored");
}

fn pull_request(action: &str, head_repo: &str) -> serde_json::Value {
    json!({
        "action": action, "number": 42,
        "pull_request": {
            "number": 42, "title": "Add a thing", "user": {"login": "carol"},
            "head": {"ref": "feature", "sha": B, "repo": {"id": 2, "full_name": head_repo}},
            "base": {"ref": "main", "sha": A, "repo": {"id": 1, "full_name": "o/r"}}
        },
        "repository": {"full_name": "o/r"}
    })
}

#[test]
fn pull_requests_from_gitea_and_github() {
    for (provider, header, updated) in [
        (
            Provider::Gitea,
            ("X-Gitea-Event", "pull_request"),
            "synchronized",
        ),
        (
            Provider::Github,
            ("X-GitHub-Event", "pull_request"),
            "synchronize",
        ),
    ] {
        for action in ["opened", "reopened", updated] {
            let HookEvent::PullRequest(pr) = read(provider, header, pull_request(action, "o/r"))
            else {
                panic!("{provider} {action}");
            };
            assert_eq!(pr.number, 42);
            assert_eq!(pr.head_sha, B);
            assert_eq!(
                (pr.head_branch.as_str(), pr.target_branch.as_str()),
                ("feature", "main")
            );
            assert_eq!(pr.author, "carol");
            assert!(!pr.from_fork);
        }
        let HookEvent::PullRequest(fork) =
            read(provider, header, pull_request("opened", "mallory/r"))
        else {
            panic!("fork");
        };
        assert!(fork.from_fork);
        let closed = read(provider, header, pull_request("closed", "o/r"));
        assert_eq!(
            closed,
            HookEvent::Ignored("pull request action \"closed\" starts nothing".into())
        );
    }
}

#[test]
fn github_pushes_pings_and_other_events() {
    let mut body = gitea_push("refs/heads/main", A, B);
    body["created"] = json!(false);
    body["pusher"] = json!({"name": "bob", "email": "b@x"});
    let event = read(Provider::Github, ("X-GitHub-Event", "push"), body);
    assert!(
        matches!(event, HookEvent::Push(ref p) if p.branch == "main" && p.head.author == "bob")
    );
    let ping = read(
        Provider::Github,
        ("X-GitHub-Event", "ping"),
        json!({"zen": "Keep it simple.", "hook_id": 1}),
    );
    assert_eq!(ping, HookEvent::Ping);
    let star = read(
        Provider::Github,
        ("X-GitHub-Event", "star"),
        json!({"action": "created"}),
    );
    assert_eq!(
        star,
        HookEvent::Ignored("event \"star\" starts nothing".into())
    );
}

#[test]
fn gitlab_push_tag_and_merge_request_hooks() {
    let push = json!({
        "object_kind": "push", "event_name": "push", "before": A, "after": B,
        "ref": "refs/heads/main", "checkout_sha": B, "user_name": "Dana", "user_username": "dana",
        "project_id": 15, "total_commits_count": 25,
        "commits": [{"id": B, "message": "Update services/a\n", "author": {"name": "Dana", "email": "d@x"}}]
    });
    let event = read(Provider::Gitlab, ("X-Gitlab-Event", "Push Hook"), push);
    assert!(
        matches!(event, HookEvent::Push(ref p) if p.head.message == "Update services/a\n" && p.head.author == "dana")
    );
    let tag = json!({"object_kind": "tag_push", "before": Z, "after": B, "ref": "refs/tags/v2", "user_username": "dana"});
    let event = read(Provider::Gitlab, ("X-Gitlab-Event", "Tag Push Hook"), tag);
    assert!(matches!(event, HookEvent::Tag { ref tag, .. } if tag == "v2"));

    let mr = |action: &str, oldrev: bool, source: u64| {
        let mut attrs = json!({
            "iid": 7, "action": action, "title": "MR", "source_branch": "feature", "target_branch": "main",
            "source_project_id": source, "target_project_id": 15,
            "last_commit": {"id": B, "message": "wip", "author": {"name": "Dana"}}
        });
        if oldrev {
            attrs["oldrev"] = json!(A);
        }
        json!({"object_kind": "merge_request", "user": {"username": "dana"}, "object_attributes": attrs})
    };
    for (action, oldrev) in [("open", false), ("reopen", false), ("update", true)] {
        let event = read(
            Provider::Gitlab,
            ("X-Gitlab-Event", "Merge Request Hook"),
            mr(action, oldrev, 15),
        );
        assert!(
            matches!(event, HookEvent::PullRequest(ref p) if p.number == 7 && !p.from_fork),
            "{action}"
        );
    }
    let retitled = read(
        Provider::Gitlab,
        ("X-Gitlab-Event", "Merge Request Hook"),
        mr("update", false, 15),
    );
    assert_eq!(retitled.kind(), "ignored");
    let fork = read(
        Provider::Gitlab,
        ("X-Gitlab-Event", "Merge Request Hook"),
        mr("open", false, 99),
    );
    assert!(matches!(fork, HookEvent::PullRequest(ref p) if p.from_fork));
}

#[test]
fn malformed_bodies_are_errors_and_odd_refs_are_ignored() {
    let h = headers(&[("X-Gitea-Event", "push")]);
    for body in [
        &b"not json"[..],
        b"[1,2]",
        b"{}",
        br#"{"ref":"refs/heads/x","after":"$(id)"}"#,
    ] {
        assert!(
            Provider::Gitea.read(&h, body).is_err(),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let no_event = headers(&[]);
    assert!(Provider::Github.read(&no_event, b"{}").is_err());
    // A ref git would refuse, or one that reads as an option, starts nothing.
    for reference in [
        "refs/heads/--upload-pack=evil",
        "refs/heads/a..b",
        "refs/pull/1/head",
        "refs/heads/x y",
    ] {
        let event = read(
            Provider::Gitea,
            ("X-Gitea-Event", "push"),
            gitea_push(reference, A, B),
        );
        assert_eq!(event.kind(), "ignored", "{reference}");
    }
    // Shell in a branch name stays a name: data, not code.
    let shell = "x$(touch${IFS}pwned)`id`";
    let event = read(
        Provider::Gitea,
        ("X-Gitea-Event", "push"),
        gitea_push(&format!("refs/heads/{shell}"), A, B),
    );
    assert!(matches!(event, HookEvent::Push(ref p) if p.branch == shell));
    // A huge commit message is clipped.
    let mut body = gitea_push("refs/heads/main", A, B);
    body["head_commit"]["message"] = json!("é".repeat(100_000));
    let HookEvent::Push(p) = read(Provider::Gitea, ("X-Gitea-Event", "push"), body) else {
        panic!("push");
    };
    assert!(p.head.message.len() <= 4096);
}

#[test]
fn signatures_of_each_provider() {
    let secret = b"s3cret";
    let body = br#"{"ref":"refs/heads/main"}"#;
    let hex = sign(secret, body);
    let ok = |p: Provider, pairs: &[(&str, &str)]| verify(p, &headers(pairs), secret, body);
    assert_eq!(ok(Provider::Gitea, &[("X-Gitea-Signature", &hex)]), Ok(()));
    assert_eq!(
        ok(Provider::Gitea, &[("X-Forgejo-Signature", &hex)]),
        Ok(())
    );
    let hub = format!("sha256={hex}");
    assert_eq!(
        ok(Provider::Gitea, &[("X-Hub-Signature-256", &hub)]),
        Ok(())
    );
    assert_eq!(
        ok(Provider::Github, &[("X-Hub-Signature-256", &hub)]),
        Ok(())
    );
    assert_eq!(
        ok(Provider::Gitlab, &[("X-Gitlab-Token", "s3cret")]),
        Ok(())
    );

    let wrong = sign(b"other", body);
    assert_eq!(
        ok(Provider::Gitea, &[("X-Gitea-Signature", &wrong)]),
        Err(SignatureError::Wrong)
    );
    assert_eq!(
        ok(Provider::Github, &[("X-Hub-Signature-256", &hex)]),
        Err(SignatureError::Wrong)
    );
    assert_eq!(
        ok(Provider::Github, &[("X-Hub-Signature-256", "sha256=zz")]),
        Err(SignatureError::Wrong)
    );
    assert_eq!(
        ok(Provider::Gitlab, &[("X-Gitlab-Token", "s3cre")]),
        Err(SignatureError::Wrong)
    );
    for provider in Provider::ALL {
        assert_eq!(ok(provider, &[]), Err(SignatureError::Missing));
    }
    // GitHub's signature does not stand for GitLab's token.
    assert_eq!(
        ok(Provider::Gitlab, &[("X-Hub-Signature-256", &hub)]),
        Err(SignatureError::Missing)
    );
}

#[test]
fn delivery_ids_per_provider() {
    let id = |p: Provider, pairs: &[(&str, &str)]| p.delivery_id(&headers(pairs));
    assert_eq!(
        id(Provider::Gitea, &[("X-Gitea-Delivery", "abc-1")]).as_deref(),
        Some("abc-1")
    );
    assert_eq!(
        id(Provider::Github, &[("X-GitHub-Delivery", "72d3162e-cc78")]).as_deref(),
        Some("72d3162e-cc78")
    );
    assert_eq!(
        id(
            Provider::Gitlab,
            &[("Idempotency-Key", "k1"), ("X-Gitlab-Event-UUID", "u1")]
        )
        .as_deref(),
        Some("k1")
    );
    assert_eq!(
        id(Provider::Gitlab, &[("X-Gitlab-Event-UUID", "u1")]).as_deref(),
        Some("u1")
    );
    assert_eq!(
        id(Provider::Github, &[("X-GitHub-Delivery", "a b<script>")]),
        None
    );
    assert_eq!(id(Provider::Github, &[]), None);
}
