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

use super::EngineError;

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

    /// The ssh command git runs, connecting to the checked address.
    pub fn ssh_command(&self) -> Option<String> {
        self.ssh.then(|| {
            format!(
                "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o HostName={} -o HostKeyAlias={}",
                self.addr, self.host
            )
        })
    }
}

/// Why `url` may not be fetched, or the address to fetch it from.
/// `Ok(None)`: a local path (only ever parsed where allowed).
pub async fn pin(url: &str, policy: &AddressPolicy) -> Result<Option<Pin>, EngineError> {
    let parsed = RepositoryUrl::parse(url, false).map_err(EngineError::Repository)?;
    let Some((host, port)) = parsed.host_port() else {
        return Ok(None);
    };
    let found: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| EngineError::Repository(format!("{host} could not be resolved: {e}")))?
        .map(|a| a.ip())
        .collect();
    let allowed = policy
        .filter(&host, &found)
        .map_err(|refused| EngineError::Repository(refused.to_string()))?;
    let addr = allowed
        .first()
        .copied()
        .ok_or_else(|| EngineError::Repository(format!("{host} has no address")))?;
    Ok(Some(Pin {
        ssh: matches!(parsed, RepositoryUrl::Ssh(_)),
        host,
        port,
        addr,
    }))
}

/// The check when a repository is linked: a URL whose host resolves only
/// to refused addresses is refused now, with why; one that does not resolve
/// (yet) is left to the fetch to report.
pub async fn check_link(url: &str, policy: &AddressPolicy) -> Result<(), String> {
    match pin(url, policy).await {
        Err(EngineError::Repository(message)) if !message.contains("could not be resolved") => {
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
        let pinned = pin("https://127.0.0.1:3000/o/r.git", &open)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            pinned.config(),
            [
                "http.curloptResolve=127.0.0.1:3000:127.0.0.1",
                "http.followRedirects=false"
            ]
        );
        let ssh = pin("git@127.0.0.1:o/r.git", &open).await.unwrap().unwrap();
        assert!(ssh.config().is_empty());
        assert!(
            ssh.ssh_command()
                .unwrap()
                .ends_with("-o HostName=127.0.0.1 -o HostKeyAlias=127.0.0.1")
        );
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_left_to_the_fetch() {
        let strict = AddressPolicy::new(NetworkList::default());
        let url = "https://no-such-host.invalid/o/r.git";
        assert!(pin(url, &strict).await.is_err());
        assert_eq!(check_link(url, &strict).await, Ok(()));
    }
}
