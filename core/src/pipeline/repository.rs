//! Where a project's repository lives, checked before git ever sees it:
//! `https://` URLs, `ssh://` URLs or `user@host:path`, and — only where the
//! operator allows it — absolute local paths. Everything else is refused:
//! git's `ext::` and `fd::` transports run commands, `file://` and relative
//! paths reach the server's own files, and a leading `-` reads as an option.

use super::super::hooks::refs::is_ref_name;

/// A repository address Kiln may fetch from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryUrl {
    Https(String),
    Ssh(String),
    Local(String),
}

impl RepositoryUrl {
    /// Checks `raw`; `allow_local` admits absolute local paths.
    pub fn parse(raw: &str, allow_local: bool) -> Result<RepositoryUrl, String> {
        let url = raw.trim();
        if url.is_empty() || url.len() > 2048 {
            return Err("url must be 1 to 2048 characters".to_owned());
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("url must not contain spaces or control characters".to_owned());
        }
        if url.starts_with('-') {
            return Err("url must not start with -".to_owned());
        }
        // Curl ends a URL's authority at `?` or `#` too: with them, the host
        // Kiln checks and the host git reaches could differ.
        if url.contains(['?', '#', '\\']) {
            return Err("url must not contain ?, # or \\".to_owned());
        }
        if url.starts_with('/') {
            if !allow_local {
                return Err(
                    "local paths are not allowed on this server (allow_local_repositories)"
                        .to_owned(),
                );
            }
            if url.split('/').any(|part| part == "..") {
                return Err("a local path must not contain ..".to_owned());
            }
            return Ok(RepositoryUrl::Local(url.to_owned()));
        }
        if let Some(rest) = url.strip_prefix("https://") {
            return host_and_path(rest).map(|()| RepositoryUrl::Https(url.to_owned()));
        }
        if let Some(rest) = url.strip_prefix("ssh://") {
            return host_and_path(rest).map(|()| RepositoryUrl::Ssh(url.to_owned()));
        }
        // scp-like `git@host:owner/repo.git`: a user, a host, a colon, a path,
        // and no `::` (git's transport syntax).
        if let Some((user_host, path)) = url.split_once(':')
            && let Some((user, host)) = user_host.split_once('@')
            && !user.is_empty()
            && !user.contains('/')
            && is_plain_host(host)
            && !path.is_empty()
            && !path.starts_with(':')
            && !path.starts_with('-')
        {
            return Ok(RepositoryUrl::Ssh(url.to_owned()));
        }
        Err(
            "url must be https://…, ssh://…, user@host:path or (where allowed) an absolute path"
                .to_owned(),
        )
    }

    pub fn as_str(&self) -> &str {
        match self {
            RepositoryUrl::Https(u) | RepositoryUrl::Ssh(u) | RepositoryUrl::Local(u) => u,
        }
    }

    /// The host git connects to and its port (443 for https, 22 for ssh);
    /// `None` for a local path. IPv6 hosts come without their brackets.
    pub fn host_port(&self) -> Option<(String, u16)> {
        let (rest, default_port) = match self {
            RepositoryUrl::Local(_) => return None,
            RepositoryUrl::Https(url) => (url.strip_prefix("https://")?, 443),
            RepositoryUrl::Ssh(url) => match url.strip_prefix("ssh://") {
                Some(rest) => (rest, 22),
                // scp-like: `user@host:path` has no port.
                None => {
                    let (user_host, _) = url.split_once(':')?;
                    let (_, host) = user_host.split_once('@')?;
                    return is_plain_host(host).then(|| (host.to_owned(), 22));
                }
            },
        };
        let authority = rest.split('/').next()?;
        let (host, port) = authority_host_port(authority)?;
        Some((host, port.unwrap_or(default_port)))
    }

    /// The URL as shown to people: a password in it replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(self.as_str())
    }
}

/// `raw` with any credentials in it replaced by `***`: the password of
/// `user:password@`, or a lone `token@` (hosts take tokens as user names).
pub fn redact(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        // ssh's `git@` names an account, not a secret.
        Some((_, host)) if scheme != "ssh" => format!("{scheme}://***@{host}{path}"),
        _ => raw.to_owned(),
    }
}

fn host_and_path(rest: &str) -> Result<(), String> {
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.matches('@').count() > 1 {
        return Err("url must have at most one @ before its host".to_owned());
    }
    let plain = authority_host_port(authority).is_some();
    if !plain || rest.len() <= authority.len() + 1 {
        return Err("url needs a host and a path (https://host/owner/repo.git)".to_owned());
    }
    Ok(())
}

/// The host and port of an authority (`user@host:port`, `[v6]:port`),
/// the host a plain name or IP address; `None` for anything else.
fn authority_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            host.parse::<std::net::Ipv6Addr>().ok()?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port = match port {
        None | Some("") => None,
        Some(port) => Some(port.parse::<u16>().ok()?),
    };
    is_plain_host(host).then(|| (host.to_owned(), port))
}

/// A DNS name or an IP address: nothing a shell or ssh could read as more.
fn is_plain_host(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
        || (!host.is_empty()
            && host.len() <= 253
            && !host.starts_with(['-', '.'])
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')))
}

/// A default branch must be a branch name git accepts.
pub fn check_default_branch(name: &str) -> Result<(), String> {
    if is_ref_name(name) {
        Ok(())
    } else {
        Err(format!("{name:?} is not a branch name git accepts"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_ssh_and_allowed_local_paths() {
        let ok = |raw: &str, local: bool| RepositoryUrl::parse(raw, local);
        assert!(matches!(
            ok("https://git.example/o/r.git", false),
            Ok(RepositoryUrl::Https(_))
        ));
        assert!(matches!(
            ok("ssh://git@git.example:2222/o/r.git", false),
            Ok(RepositoryUrl::Ssh(_))
        ));
        assert!(matches!(
            ok("git@github.com:o/r.git", false),
            Ok(RepositoryUrl::Ssh(_))
        ));
        assert!(matches!(
            ok("/srv/git/r.git", true),
            Ok(RepositoryUrl::Local(_))
        ));
        assert!(
            ok("/srv/git/r.git", false)
                .unwrap_err()
                .contains("not allowed")
        );
    }

    #[test]
    fn transports_that_run_commands_or_read_the_server_are_refused() {
        for bad in [
            "ext::sh -c touch% /tmp/pwned",
            "ext::ssh",
            "fd::3",
            "file:///etc",
            "http://plain.example/r.git",
            "../other",
            "relative/path",
            "-uhttps://x/y",
            "https://",
            "https:///path",
            "https://host",
            "git@host::x",
            "a/b@host:path",
            "/srv/../etc",
            "https://x/y z",
            "https://127.0.0.1:8443?@github.com/o/r.git",
            "https://10.0.0.5#@github.com/o/r.git",
            "https://a@127.0.0.1@evil.example/o/r.git",
            "https://evil.example\\@127.0.0.1/o/r.git",
            "ssh://git@[a:$(id)]/o/r",
            "ssh://git@h$(id)/o/r",
            "git@h$(id):o/r",
            "https://host:99999/o/r.git",
            "https://[::1/o/r.git",
            "",
        ] {
            assert!(RepositoryUrl::parse(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_host_and_port_git_connects_to() {
        let of = |raw: &str| RepositoryUrl::parse(raw, true).unwrap().host_port();
        assert_eq!(
            of("https://bot:t@git.example/o/r.git"),
            Some(("git.example".into(), 443))
        );
        assert_eq!(
            of("https://10.0.0.5:8443/o/r.git"),
            Some(("10.0.0.5".into(), 8443))
        );
        assert_eq!(of("https://[::1]:3000/o/r.git"), Some(("::1".into(), 3000)));
        assert_eq!(
            of("ssh://git@git.example:2222/o/r.git"),
            Some(("git.example".into(), 2222))
        );
        assert_eq!(
            of("git@github.com:o/r.git"),
            Some(("github.com".into(), 22))
        );
        assert_eq!(of("/srv/git/r.git"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("https://bot:tok3n@git.example/o/r.git"),
            "https://bot:***@git.example/o/r.git"
        );
        assert_eq!(
            redact("https://git.example/o/r.git"),
            "https://git.example/o/r.git"
        );
        assert_eq!(redact("git@h:o/r"), "git@h:o/r");
        assert_eq!(
            redact("https://ghp_token@github.com/o/r.git"),
            "https://***@github.com/o/r.git"
        );
        assert_eq!(redact("ssh://git@h/o/r"), "ssh://git@h/o/r");
        assert!(check_default_branch("main").is_ok());
        assert!(check_default_branch("-x").is_err());
    }
}
