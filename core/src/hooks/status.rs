//! Commit statuses as each git host's API takes them: where a project's
//! statuses go (the API address and the repository's path, from its link),
//! and the exact request that reports a run's state on a commit. Plain
//! values in, one request out; sending it (and retrying) is the server's.

use super::Provider;
use crate::engine::RunState;
use crate::pipeline::repository::RepositoryUrl;

/// Where a repository's commit statuses are posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusApi {
    /// The API's base address, no trailing `/` (`https://host/api/v1`).
    pub base: String,
    /// `owner/repo` (GitLab: the whole namespace path, `group/sub/project`).
    pub repository: String,
}

/// What a commit status reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status<'a> {
    pub sha: &'a str,
    pub state: RunState,
    /// The run page, when Kiln knows an address people reach it at.
    pub target_url: Option<&'a str>,
    /// `kiln/<pipeline>`: one status per pipeline on a commit.
    pub context: &'a str,
}

/// One HTTP request to a git host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    pub url: String,
    /// Besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    pub body: serde_json::Value,
}

/// Where `provider`'s statuses for the repository at `url` go: `api_url`
/// when the link sets one (a self-hosted API elsewhere, or a local
/// repository's stand-in), else the host's own API address.
pub fn api_of(
    provider: Provider,
    url: &RepositoryUrl,
    api_url: Option<&str>,
) -> Result<StatusApi, String> {
    let (host, path) = host_and_path(url);
    let repository = match url {
        // A local repository has no namespace: its last two path parts.
        RepositoryUrl::Local(_) => {
            let parts: Vec<&str> = path.rsplit('/').take(2).collect();
            parts.into_iter().rev().collect::<Vec<_>>().join("/")
        }
        _ => path.to_owned(),
    };
    let repository = repository.trim_end_matches(".git").to_owned();
    let parts: Vec<&str> = repository.split('/').collect();
    let enough = match provider {
        Provider::Gitlab => parts.len() >= 2,
        Provider::Gitea | Provider::Github => parts.len() == 2,
    };
    if !enough || parts.iter().any(|p| !is_path_part(p)) {
        return Err(format!(
            "cannot tell the repository's owner and name from {}",
            url.redacted()
        ));
    }
    let base = match (api_url, host) {
        (Some(api), _) => api.trim_end_matches('/').to_owned(),
        (None, Some(host)) => match provider {
            Provider::Gitea => format!("https://{host}/api/v1"),
            Provider::Github if host == "github.com" => "https://api.github.com".to_owned(),
            Provider::Github => format!("https://{host}/api/v3"),
            Provider::Gitlab => format!("https://{host}/api/v4"),
        },
        (None, None) => {
            return Err("a local repository reports statuses only to an api_url".to_owned());
        }
    };
    Ok(StatusApi { base, repository })
}

/// Checks an `api_url` setting: `https://` (or, where local repositories
/// are allowed, `http://`), a host, no credentials, query or fragment.
pub fn check_api_url(raw: &str, allow_http: bool) -> Result<(), String> {
    let parsed = url::Url::parse(raw).map_err(|e| format!("api_url is not a URL: {e}"))?;
    let scheme_ok = parsed.scheme() == "https" || (allow_http && parsed.scheme() == "http");
    if !scheme_ok {
        return Err("api_url must start with https://".to_owned());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("api_url must name a host".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("api_url must not carry credentials (use status_token)".to_owned());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("api_url must not have a query or fragment".to_owned());
    }
    if raw.len() > 2048 {
        return Err("api_url must be at most 2048 characters".to_owned());
    }
    Ok(())
}

/// The request that sets `status` on the commit, authenticated by `token`.
pub fn request(
    provider: Provider,
    api: &StatusApi,
    status: &Status<'_>,
    token: &str,
) -> StatusRequest {
    let description = description(status.state);
    match provider {
        Provider::Gitea | Provider::Github => {
            let state = match status.state {
                RunState::Running => "pending",
                RunState::Success => "success",
                RunState::Failed => "failure",
                RunState::Cancelled => "error",
            };
            let auth = match provider {
                Provider::Gitea => format!("token {token}"),
                _ => format!("Bearer {token}"),
            };
            let mut headers = vec![("Authorization", auth)];
            if provider == Provider::Github {
                headers.push(("Accept", "application/vnd.github+json".to_owned()));
                headers.push(("X-GitHub-Api-Version", "2022-11-28".to_owned()));
            }
            StatusRequest {
                url: format!(
                    "{}/repos/{}/statuses/{}",
                    api.base, api.repository, status.sha
                ),
                headers,
                body: body(state, description, status, "context"),
            }
        }
        Provider::Gitlab => {
            let state = match status.state {
                RunState::Running => "running",
                RunState::Success => "success",
                RunState::Failed => "failed",
                RunState::Cancelled => "canceled",
            };
            StatusRequest {
                url: format!(
                    "{}/projects/{}/statuses/{}",
                    api.base,
                    api.repository.replace('/', "%2F"),
                    status.sha
                ),
                headers: vec![("PRIVATE-TOKEN", token.to_owned())],
                body: body(state, description, status, "name"),
            }
        }
    }
}

/// The JSON body: the host's state word, a description, the context under
/// the host's own key, and the run page when there is one (no link beats
/// one nobody can open).
fn body(
    state: &str,
    description: &str,
    status: &Status<'_>,
    context_key: &str,
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "state": state,
        "description": description,
        context_key: status.context,
    });
    if let Some(url) = status.target_url {
        body["target_url"] = serde_json::Value::from(url);
    }
    body
}

fn description(state: RunState) -> &'static str {
    match state {
        RunState::Running => "Kiln: running",
        RunState::Success => "Kiln: passed",
        RunState::Failed => "Kiln: failed",
        RunState::Cancelled => "Kiln: cancelled",
    }
}

/// The host (none for a local path) and the path after it, without a
/// leading or trailing `/`.
fn host_and_path(url: &RepositoryUrl) -> (Option<&str>, &str) {
    match url {
        RepositoryUrl::Local(path) => (None, path.trim_matches('/')),
        RepositoryUrl::Https(raw) | RepositoryUrl::Ssh(raw) => {
            let rest = raw
                .strip_prefix("https://")
                .or_else(|| raw.strip_prefix("ssh://"));
            let (authority, path) = match rest {
                Some(rest) => rest.split_once('/').unwrap_or((rest, "")),
                // scp-like `user@host:path`.
                None => raw.split_once(':').unwrap_or((raw, "")),
            };
            let host = authority.rsplit('@').next().unwrap_or(authority);
            // An https port is the web server's, where the API lives too; an
            // ssh port (`host:2222`) is not the API's. A bracketed IPv6
            // address keeps its brackets.
            let host = match url {
                RepositoryUrl::Https(_) => host,
                _ if host.starts_with('[') => host
                    .split_once(']')
                    .map_or(host, |(h, _)| &host[..=h.len()]),
                _ => host.split(':').next().unwrap_or(host),
            };
            (Some(host), path.trim_matches('/'))
        }
    }
}

/// A path part a host accepts for an owner, group or repository name.
fn is_path_part(part: &str) -> bool {
    !part.is_empty()
        && part != "."
        && part != ".."
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn https(url: &str) -> RepositoryUrl {
        RepositoryUrl::parse(url, false).unwrap()
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn status(state: RunState) -> Status<'static> {
        Status {
            sha: SHA,
            state,
            target_url: Some("https://kiln.example/runs/7"),
            context: "kiln/api",
        }
    }

    #[test]
    fn each_host_has_its_own_api_address() {
        let gitea = api_of(
            Provider::Gitea,
            &https("https://git.example.org/acme/app.git"),
            None,
        );
        assert_eq!(
            gitea.unwrap(),
            StatusApi {
                base: "https://git.example.org/api/v1".into(),
                repository: "acme/app".into()
            }
        );
        let github = api_of(
            Provider::Github,
            &https("git@github.com:acme/app.git"),
            None,
        )
        .unwrap();
        assert_eq!(github.base, "https://api.github.com");
        assert_eq!(github.repository, "acme/app");
        let enterprise =
            api_of(Provider::Github, &https("https://ghe.corp/acme/app"), None).unwrap();
        assert_eq!(enterprise.base, "https://ghe.corp/api/v3");
        let gitlab = api_of(
            Provider::Gitlab,
            &https("ssh://git@gitlab.example:2222/group/sub/app.git"),
            None,
        )
        .unwrap();
        assert_eq!(gitlab.base, "https://gitlab.example/api/v4");
        assert_eq!(gitlab.repository, "group/sub/app");
        let port = api_of(
            Provider::Gitea,
            &https("https://git.example:8443/a/b"),
            None,
        )
        .unwrap();
        assert_eq!(port.base, "https://git.example:8443/api/v1");
        let v6 = api_of(Provider::Gitea, &https("ssh://git@[::1]:22/a/b.git"), None).unwrap();
        assert_eq!(v6.base, "https://[::1]/api/v1");
    }

    #[test]
    fn a_token_in_the_url_stays_out_of_the_api_address() {
        let api = api_of(
            Provider::Gitea,
            &https("https://kiln:s3cret@git.example.org/acme/app.git"),
            None,
        )
        .unwrap();
        assert_eq!(api.base, "https://git.example.org/api/v1");
    }

    #[test]
    fn a_local_repository_needs_an_api_url() {
        let local = RepositoryUrl::parse("/srv/git/acme/app.git", true).unwrap();
        assert!(api_of(Provider::Gitea, &local, None).is_err());
        let api = api_of(Provider::Gitea, &local, Some("http://127.0.0.1:9/api/v1/")).unwrap();
        assert_eq!(api.base, "http://127.0.0.1:9/api/v1");
        assert_eq!(api.repository, "acme/app");
    }

    #[test]
    fn odd_repository_paths_are_refused() {
        for url in [
            "https://git.example.org/app",
            "https://git.example.org/a/b/c",
            "https://git.example.org/a/../b",
        ] {
            assert!(api_of(Provider::Gitea, &https(url), None).is_err(), "{url}");
        }
        assert!(api_of(Provider::Gitlab, &https("https://h/a/b/c"), None).is_ok());
    }

    #[test]
    fn api_urls_are_checked() {
        assert!(check_api_url("https://git.example.org/api/v1", false).is_ok());
        assert!(check_api_url("http://127.0.0.1:3000/api/v1", true).is_ok());
        for bad in [
            "http://git.example.org/api/v1",
            "ftp://x/y",
            "https://user:pw@host/api",
            "https://host/api?x=1",
            "not a url",
        ] {
            assert!(check_api_url(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn gitea_request_is_exact() {
        let api = StatusApi {
            base: "http://127.0.0.1:9/api/v1".into(),
            repository: "acme/app".into(),
        };
        let request = request(Provider::Gitea, &api, &status(RunState::Failed), "tok");
        assert_eq!(
            request.url,
            format!("http://127.0.0.1:9/api/v1/repos/acme/app/statuses/{SHA}")
        );
        assert_eq!(
            request.headers,
            vec![("Authorization", "token tok".to_owned())]
        );
        assert_eq!(request.body["state"], "failure");
        assert_eq!(request.body["context"], "kiln/api");
        assert_eq!(request.body["target_url"], "https://kiln.example/runs/7");
        let unlinked = Status {
            target_url: None,
            ..status(RunState::Success)
        };
        let body = super::request(Provider::Gitea, &api, &unlinked, "tok").body;
        assert!(body.get("target_url").is_none(), "{body}");
    }

    #[test]
    fn github_request_is_exact() {
        let api = StatusApi {
            base: "https://api.github.com".into(),
            repository: "acme/app".into(),
        };
        let request = request(Provider::Github, &api, &status(RunState::Running), "tok");
        assert_eq!(
            request.url,
            format!("https://api.github.com/repos/acme/app/statuses/{SHA}")
        );
        assert_eq!(
            request.headers[0],
            ("Authorization", "Bearer tok".to_owned())
        );
        assert_eq!(request.body["state"], "pending");
        let cancelled = super::request(Provider::Github, &api, &status(RunState::Cancelled), "t");
        assert_eq!(cancelled.body["state"], "error");
    }

    #[test]
    fn gitlab_request_is_exact() {
        let api = StatusApi {
            base: "https://gitlab.example/api/v4".into(),
            repository: "group/sub/app".into(),
        };
        let states: Vec<String> = RunState::ALL
            .into_iter()
            .map(|state| {
                let r = request(Provider::Gitlab, &api, &status(state), "tok");
                assert_eq!(
                    r.url,
                    format!(
                        "https://gitlab.example/api/v4/projects/group%2Fsub%2Fapp/statuses/{SHA}"
                    )
                );
                assert_eq!(r.headers, vec![("PRIVATE-TOKEN", "tok".to_owned())]);
                assert_eq!(r.body["name"], "kiln/api");
                r.body["state"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(states, ["running", "success", "failed", "canceled"]);
    }
}
