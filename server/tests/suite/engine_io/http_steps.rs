//! `http:` steps end to end: calls to a real server with their status
//! checked, and the addresses they may not reach (loopback, link-local,
//! private, …), whether named directly, through DNS or by a redirect.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::common::engine::{log, owner, save, start, step, wait_end};
use crate::common::{Backend, TestApp};

/// A tiny HTTP server on `ip` answering every request with `status` and a
/// JSON body; the counter says how many requests reached it.
async fn http_target_on(ip: &str, status: u16) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move |body: String| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                format!("{{\"echo\":{:?}}}", body),
            )
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

async fn http_target(status: u16) -> String {
    http_target_on("127.0.0.1", status).await.0
}

/// A server on `ip` answering every request with a redirect to `location`.
async fn redirector_on(ip: &str, location: String) -> String {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || {
        let location = location.clone();
        async move { axum::response::Redirect::temporary(&location) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The tests' targets listen on loopback, which `http:` steps may not
/// reach unless allowed.
fn allow_loopback(config: &mut kiln_server::config::Config) {
    config.http_step_allow_networks = "127.0.0.0/8".parse().unwrap();
}

async fn http_tasks_call_and_check_status(backend: Backend) {
    let app = TestApp::spawn_with(backend, allow_loopback).await;
    let (api, project) = owner(&app).await;
    let ok = http_target(200).await;
    let teapot = http_target(418).await;
    let source = format!(
        r#"
params:
  name: {{ type: string, default: kiln }}
tasks:
  call:
    http:
      method: POST
      url: "{ok}/hello"
      body: "hi {{{{ params.name }}}}"
  use:
    needs: [call]
    run: echo "got {{{{ tasks.call.outputs.status }}}}"
  refused:
    http:
      url: "{teapot}/"
      expect: [200, 201]
"#
    );
    assert_eq!(save(&api, project, "calls", &source).await.0, 200);
    let run = start(&api, project, "calls", json!({})).await;
    let done = wait_end(&api, run).await;
    let call = step(&done, "call");
    assert_eq!(call["state"], "success", "{done:#}");
    assert_eq!(call["outputs"]["status"], "200");
    assert_eq!(call["outputs"]["body"], "{\"echo\":\"hi kiln\"}");
    assert!(log(&api, run, "use").await.contains("got 200"));
    let refused = step(&done, "refused");
    assert_eq!(refused["state"], "failed");
    assert_eq!(refused["exit_code"], 418);
    assert!(refused["message"].as_str().unwrap().contains("418"));
    assert!(log(&api, run, "refused").await.contains("418"));
    app.stop().await;
}
on_all_backends!(http_tasks_call_and_check_status);

/// The message of a failed step, which must name why and what to change.
fn refusal<'a>(run: &'a serde_json::Value, task: &str) -> &'a str {
    let step = step(run, task);
    assert_eq!(step["state"], "failed", "{task}: {run:#}");
    let message = step["message"].as_str().unwrap();
    assert!(
        message.starts_with("request refused: ") && message.contains("http_step_allow_networks"),
        "{task}: {message}"
    );
    assert!(step["outputs"].get("body").is_none(), "{task}: {step:#}");
    message
}

async fn http_steps_refuse_internal_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (api, project) = owner(&app).await;
    let (target, hits) = http_target_on("127.0.0.1", 200).await;
    let port = target.rsplit(':').next().unwrap();
    let kiln = &app.base;
    let source = format!(
        r#"
tasks:
  literal: {{ http: {{ url: "{target}/" }} }}
  named: {{ http: {{ url: "http://localhost:{port}/" }} }}
  mapped: {{ http: {{ url: "http://[::ffff:127.0.0.1]:{port}/" }} }}
  decimal: {{ http: {{ url: "http://2130706433:{port}/" }} }}
  unspecified: {{ http: {{ url: "http://0.0.0.0:{port}/" }} }}
  metadata: {{ http: {{ url: "http://169.254.169.254/latest/meta-data/" }} }}
  private: {{ http: {{ url: "http://10.0.0.1/" }} }}
  cgnat: {{ http: {{ url: "http://100.64.0.1/" }} }}
  unique_local: {{ http: {{ url: "http://[fd00::1]/" }} }}
  kiln_metrics: {{ http: {{ url: "{kiln}/metrics" }} }}
"#
    );
    assert_eq!(save(&api, project, "probe", &source).await.0, 200);
    let run = start(&api, project, "probe", json!({})).await;
    let done = wait_end(&api, run).await;
    assert_eq!(done["state"], "failed");
    let expected = [
        ("literal", "127.0.0.1 is a loopback address"),
        ("named", "localhost resolves to "),
        ("mapped", "127.0.0.1 is a loopback address"),
        ("decimal", "127.0.0.1 is a loopback address"),
        ("unspecified", "0.0.0.0 is an unspecified address"),
        ("metadata", "169.254.169.254 is a link-local address"),
        ("private", "10.0.0.1 is a private address"),
        (
            "cgnat",
            "100.64.0.1 is a shared (carrier-grade NAT) address",
        ),
        ("unique_local", "fd00::1 is a unique-local address"),
        ("kiln_metrics", "127.0.0.1 is a loopback address"),
    ];
    for (task, says) in expected {
        let message = refusal(&done, task);
        assert!(message.contains(says), "{task}: {message}");
    }
    assert!(refusal(&done, "named").contains("a loopback address"));
    assert!(
        log(&api, run, "kiln_metrics")
            .await
            .contains("request refused"),
        "the log says so too"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the target");
    app.stop().await;
}
on_all_backends!(http_steps_refuse_internal_addresses);

/// Only 127.0.0.2 is allowed: a server there works, and its redirects to
/// 127.0.0.1 (by address or by name) are refused at the hop.
async fn http_step_redirects_are_checked_again(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.http_step_allow_networks = "127.0.0.2/32".parse().unwrap();
    })
    .await;
    let (api, project) = owner(&app).await;
    let (inside, hits) = http_target_on("127.0.0.1", 200).await;
    let port = inside.rsplit(':').next().unwrap();
    let (allowed, allowed_hits) = http_target_on("127.0.0.2", 200).await;
    let to_literal = redirector_on("127.0.0.2", format!("{inside}/secret")).await;
    let to_name = redirector_on("127.0.0.2", format!("http://localhost:{port}/secret")).await;
    let to_allowed = redirector_on("127.0.0.2", format!("{allowed}/landed")).await;
    let source = format!(
        r#"
tasks:
  allowed: {{ http: {{ url: "{allowed}/" }} }}
  via_allowed: {{ http: {{ url: "{to_allowed}/" }} }}
  via_literal: {{ http: {{ url: "{to_literal}/" }} }}
  via_name: {{ http: {{ url: "{to_name}/" }} }}
  direct: {{ http: {{ url: "{inside}/" }} }}
"#
    );
    assert_eq!(save(&api, project, "hops", &source).await.0, 200);
    let run = start(&api, project, "hops", json!({})).await;
    let done = wait_end(&api, run).await;
    for task in ["allowed", "via_allowed"] {
        let ok = step(&done, task);
        assert_eq!(ok["state"], "success", "{task}: {done:#}");
        assert_eq!(ok["outputs"]["status"], "200");
    }
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 2);
    assert!(refusal(&done, "via_literal").contains("127.0.0.1 is a loopback address"));
    let by_name = refusal(&done, "via_name");
    assert!(
        by_name.contains("localhost resolves to") && by_name.contains("loopback"),
        "{by_name}"
    );
    assert!(refusal(&done, "direct").contains("127.0.0.1 is a loopback address"));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no hop reached 127.0.0.1");
    app.stop().await;
}
on_all_backends!(http_step_redirects_are_checked_again);
