//! Where git may connect for a linked repository. The host's addresses are
//! kept to those the outgoing-address policy admits (loopback, private,
//! link-local and this machine's own addresses are refused unless
//! `http_step_allow_networks` names them, as for `http:` steps), and git is
//! pinned to the address that was checked: curl's resolve list for https
//! (so no second lookup can answer differently) with redirects off, and
//! `HostName` for ssh (the host key still checked under the host's name).
//! Where the operator allows local repositories, nothing is checked.

use std::net::IpAddr;

use kiln_core::net::AddressPolicy;
use kiln_core::pipeline::repository::RepositoryUrl;

use crate::ServiceError;

/// The address git is to use for one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    host: String,
    port: u16,
    addr: IpAddr,
    ssh: bool,
}

impl Pin {
    /// `-c` settings for git.
    pub fn config(&self) -> Vec<String> {
        if self.ssh {
            return Vec::new();
        }
        let addr = match self.addr {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        vec![
            format!("http.curloptResolve={}:{}:{addr}", self.host, self.port),
            // A redirect could name any host; it is not followed.
            "http.followRedirects=false".to_owned(),
        ]
    }

    /// The ssh command git runs (through a shell), connecting to the
    /// checked address. The host is a plain name or address (the URL's
    /// parser admits nothing else); quoted all the same.
    pub fn ssh_command(&self) -> Option<String> {
        self.ssh.then(|| {
            format!(
                "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o HostName='{}' -o HostKeyAlias='{}'",
                self.addr,
                self.host.replace('\'', "")
            )
        })
    }
}

/// Why `url` may not be fetched, or the address to fetch it from. A
/// local path, or a host that cannot be read, is refused (this is only
/// asked where local repositories are not allowed).
pub async fn pin(url: &str, policy: &AddressPolicy) -> Result<Pin, ServiceError> {
    let parsed = RepositoryUrl::parse(url, false).map_err(ServiceError::Repository)?;
    if matches!(parsed, RepositoryUrl::Https(_)) && !git_pins_https().await {
        // An older git ignores the resolve list without a word.
        return Err(ServiceError::Repository(
            "git 2.37 or newer is needed to fetch over https safely (http.curloptResolve)"
                .to_owned(),
        ));
    }
    let Some((host, port)) = parsed.host_port() else {
        return Err(ServiceError::Repository(
            "the repository's host cannot be read".to_owned(),
        ));
    };
    let found: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| ServiceError::Repository(format!("{host} could not be resolved: {e}")))?
        .map(|a| a.ip())
        .collect();
    let allowed = policy
        .filter(&host, &found)
        .map_err(|refused| ServiceError::Repository(refused.to_string()))?;
    let addr = allowed
        .first()
        .copied()
        .ok_or_else(|| ServiceError::Repository(format!("{host} has no address")))?;
    Ok(Pin {
        ssh: matches!(parsed, RepositoryUrl::Ssh(_)),
        host,
        port,
        addr,
    })
}

/// Whether this machine's git honours `http.curloptResolve` (2.37 and
/// newer); asked once.
async fn git_pins_https() -> bool {
    static KNOWN: tokio::sync::OnceCell<bool> = tokio::sync::OnceCell::const_new();
    *KNOWN
        .get_or_init(|| async {
            let out = tokio::process::Command::new("git")
                .arg("--version")
                .output()
                .await;
            let text = out
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            version_at_least(&text, (2, 37))
        })
        .await
}

/// Whether `git version X.Y…` is at least `min`.
fn version_at_least(text: &str, min: (u32, u32)) -> bool {
    let numbers: Vec<u32> = text
        .trim()
        .trim_start_matches("git version ")
        .split(['.', ' '])
        .take(2)
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers[..] {
        [major, minor] => (major, minor) >= min,
        _ => false,
    }
}

/// The check when a repository is linked: a URL whose host resolves only
/// to refused addresses is refused now, with why; one that does not resolve
/// (yet) is left to the fetch to report.
pub async fn check_link(url: &str, policy: &AddressPolicy) -> Result<(), String> {
    match pin(url, policy).await {
        Err(ServiceError::Repository(message)) if !message.contains("could not be resolved") => {
            Err(message)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_core::net::NetworkList;

    #[tokio::test]
    async fn internal_addresses_are_refused_unless_allowed() {
        let strict = AddressPolicy::new(NetworkList::default());
        for url in [
            "https://127.0.0.1/o/r.git",
            "https://10.1.2.3/o/r.git",
            "https://169.254.169.254/o/r.git",
            "https://[::1]:8443/o/r.git",
            "ssh://git@192.168.1.9/o/r.git",
            "git@localhost:o/r.git",
        ] {
            let error = pin(url, &strict).await.unwrap_err().to_string();
            assert!(error.contains("http_step_allow_networks"), "{url}: {error}");
            assert!(check_link(url, &strict).await.is_err(), "{url}");
        }
        let open = AddressPolicy::new(NetworkList::loopback());
        let pinned = pin("https://127.0.0.1:3000/o/r.git", &open).await.unwrap();
        assert_eq!(
            pinned.config(),
            [
                "http.curloptResolve=127.0.0.1:3000:127.0.0.1",
                "http.followRedirects=false"
            ]
        );
        let ssh = pin("git@127.0.0.1:o/r.git", &open).await.unwrap();
        assert!(ssh.config().is_empty());
        assert!(
            ssh.ssh_command()
                .unwrap()
                .ends_with("-o HostName='127.0.0.1' -o HostKeyAlias='127.0.0.1'")
        );
    }

    #[test]
    fn git_versions_are_read() {
        assert!(version_at_least("git version 2.47.3\n", (2, 37)));
        assert!(version_at_least("git version 2.37.0", (2, 37)));
        assert!(!version_at_least("git version 2.36.9", (2, 37)));
        assert!(version_at_least("git version 3.0.0", (2, 37)));
        assert!(!version_at_least("", (2, 37)));
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_left_to_the_fetch() {
        let strict = AddressPolicy::new(NetworkList::default());
        let url = "https://no-such-host.invalid/o/r.git";
        assert!(pin(url, &strict).await.is_err());
        assert_eq!(check_link(url, &strict).await, Ok(()));
    }
}
