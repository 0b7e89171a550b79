//! An `http:` step: one request by reqwest. The status line, the response
//! headers and the body (capped) go to the log; `status` and `body` become
//! the task's outputs; a status outside the expected list fails the step.
//! Where the request may go is the client's business (`http_client`); a
//! refused address fails the step with the reason and the setting to change.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use kiln_core::engine::AttemptEnd;
use reqwest::Method;
use tokio_util::sync::CancellationToken;

use super::http_client::{StepClient, describe, refusal_in};
use super::logs::StepLog;
use super::shell::{OutputLine, Stream};

/// Body bytes kept for the log and the `body` output.
const BODY_CAP: usize = 32 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect: Vec<u16>,
    pub timeout: Option<Duration>,
}

/// How the call ended, its HTTP status, and its outputs.
pub struct HttpResult {
    pub end: AttemptEnd,
    pub status: Option<i32>,
    pub outputs: BTreeMap<String, String>,
}

fn failed(message: String) -> HttpResult {
    HttpResult {
        end: AttemptEnd::Failed {
            code: None,
            message,
        },
        status: None,
        outputs: BTreeMap::new(),
    }
}

pub async fn call(
    client: &StepClient,
    request: &HttpRequest,
    log: &mut StepLog<'_>,
    cancel: &CancellationToken,
) -> std::io::Result<HttpResult> {
    let Ok(method) = Method::from_bytes(request.method.as_bytes()) else {
        return Ok(failed(format!(
            "{:?} is not an HTTP method",
            request.method
        )));
    };
    log.note(&format!("{method} {}", request.url)).await?;
    let url = match url::Url::parse(&request.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => {
            let message = format!("{:?} is not an http or https URL", request.url);
            log.note(&message).await?;
            return Ok(failed(message));
        }
    };
    if let Err(refused) = client.check_url(&url) {
        let message = format!("request refused: {refused}");
        log.note(&message).await?;
        return Ok(failed(message));
    }
    let mut builder = client
        .client()
        .request(method, url)
        .timeout(request.timeout.unwrap_or(DEFAULT_TIMEOUT));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let sent = tokio::select! {
        sent = builder.send() => sent,
        () = cancel.cancelled() => return Ok(cancelled()),
    };
    let response = match sent {
        Ok(response) => response,
        Err(error) if error.is_timeout() => return Ok(timed_out()),
        Err(error) => {
            let message = match refusal_in(&error) {
                Some(refused) => format!("request refused: {refused}"),
                None => format!("request failed: {}", describe(&error)),
            };
            log.note(&message).await?;
            return Ok(failed(message));
        }
    };
    let status = response.status();
    log.note(&format!("{:?} {status}", response.version()))
        .await?;
    for (name, value) in response.headers() {
        let line = format!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
        log.note(&line).await?;
    }
    let mut body = Vec::new();
    let mut cut = false;
    let mut stream = response.bytes_stream();
    loop {
        let chunk = tokio::select! {
            chunk = stream.next() => chunk,
            () = cancel.cancelled() => return Ok(cancelled()),
        };
        match chunk {
            None => break,
            Some(Ok(bytes)) => {
                let room = BODY_CAP - body.len();
                if bytes.len() > room {
                    body.extend_from_slice(&bytes[..room]);
                    cut = true;
                    break;
                }
                body.extend_from_slice(&bytes);
            }
            Some(Err(error)) if error.is_timeout() => return Ok(timed_out()),
            Some(Err(error)) => return Ok(failed(format!("reading the response failed: {error}"))),
        }
    }
    for line in body.split(|&b| b == b'\n') {
        log.line(&OutputLine {
            stream: Stream::Stdout,
            bytes: line.to_vec(),
            complete: true,
        })
        .await?;
    }
    if cut {
        log.note(&format!("body cut at {BODY_CAP} bytes")).await?;
    }
    let code = status.as_u16();
    let expected = if request.expect.is_empty() {
        status.is_success()
    } else {
        request.expect.contains(&code)
    };
    let outputs = BTreeMap::from([
        ("status".to_owned(), code.to_string()),
        (
            "body".to_owned(),
            String::from_utf8_lossy(&body).into_owned(),
        ),
    ]);
    let end = if expected {
        AttemptEnd::Succeeded
    } else {
        AttemptEnd::Failed {
            code: Some(i32::from(code)),
            message: format!("HTTP status {code} is not one of the expected statuses"),
        }
    };
    Ok(HttpResult {
        end,
        status: Some(i32::from(code)),
        outputs,
    })
}

fn timed_out() -> HttpResult {
    HttpResult {
        end: AttemptEnd::TimedOut,
        status: None,
        outputs: BTreeMap::new(),
    }
}

fn cancelled() -> HttpResult {
    failed(super::finish::CANCELLED.to_owned())
}
