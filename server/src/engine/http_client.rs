//! The client `http:` steps call with. Restricted addresses (loopback,
//! link-local, private, …, and this machine's own interface addresses:
//! `kiln_core::net::address`) are refused unless
//! `http_step_allow_networks` admits them, at every point a request can
//! reach an address: names through a resolver that drops refused addresses,
//! IP-literal URLs (which never reach a resolver) before sending, and every
//! redirect hop. Environment proxies are not used: behind a proxy the check
//! would see the proxy's address, not the target's.

use std::error::Error;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use kiln_core::net::{AddressPolicy, NetworkList, Refused};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use url::{Host, Url};

type BoxError = Box<dyn Error + Send + Sync>;

/// Redirects followed before giving up (reqwest's own default).
const MAX_REDIRECTS: usize = 10;

#[derive(Debug, Clone)]
pub struct StepClient {
    client: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl StepClient {
    pub fn new(allow: NetworkList) -> Result<Self, reqwest::Error> {
        Self::build(allow, true)
    }

    /// The same guard, following no redirect: for requests that carry a
    /// token in a header reqwest would pass on to another host (GitLab's
    /// `PRIVATE-TOKEN`).
    pub fn without_redirects(allow: NetworkList) -> Result<Self, reqwest::Error> {
        Self::build(allow, false)
    }

    fn build(allow: NetworkList, follow: bool) -> Result<Self, reqwest::Error> {
        let policy = Arc::new(AddressPolicy::new(allow).with_own_addresses(own_addresses()));
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                policy: policy.clone(),
            })
            .redirect(if follow {
                redirects(policy.clone())
            } else {
                redirect::Policy::none()
            })
            .no_proxy()
            .build()?;
        Ok(StepClient { client, policy })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The policy it holds to, shared with git's fetches.
    pub fn policy(&self) -> Arc<AddressPolicy> {
        self.policy.clone()
    }

    /// The check for a URL whose host is an address: the resolver never
    /// sees those.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        check_literal(&self.policy, url)
    }
}

/// The addresses of this machine's interfaces, read once when the engine
/// starts (a Kiln listening on all of them is reachable at each). If they
/// cannot be read, loopback and the private ranges still hold.
fn own_addresses() -> Vec<IpAddr> {
    match nix::ifaddrs::getifaddrs() {
        Ok(interfaces) => interfaces
            .filter_map(|interface| {
                let address = interface.address?;
                address
                    .as_sockaddr_in()
                    .map(|a| IpAddr::V4(a.ip()))
                    .or_else(|| address.as_sockaddr_in6().map(|a| IpAddr::V6(a.ip())))
            })
            .collect(),
        Err(error) => {
            tracing::warn!(%error, "could not list this machine's addresses for http: steps");
            Vec::new()
        }
    }
}

fn check_literal(policy: &AddressPolicy, url: &Url) -> Result<(), Refused> {
    let addr = match url.host() {
        Some(Host::Ipv4(addr)) => IpAddr::V4(addr),
        Some(Host::Ipv6(addr)) => IpAddr::V6(addr),
        Some(Host::Domain(_)) | None => return Ok(()),
    };
    policy.check(&addr.to_string(), addr)
}

/// Each hop is checked like the first URL; names are checked again by the
/// resolver when the hop connects.
fn redirects(policy: Arc<AddressPolicy>) -> redirect::Policy {
    redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        match check_literal(&policy, attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refused) => attempt.error(refused),
        }
    })
}

/// The system resolver, keeping only the addresses the policy admits; a
/// name with none left fails with the first refusal.
struct GuardedResolver {
    policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(BoxError::from)?
                .map(|addr| addr.ip())
                .collect();
            let allowed = policy.filter(&host, &found).map_err(BoxError::from)?;
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok::<Addrs, BoxError>(addrs)
        })
    }
}

/// The refusal behind a failed request, wherever reqwest and hyper wrapped it.
pub fn refusal_in<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a Refused> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Some(refused);
        }
        cause = current.source();
    }
    None
}

/// An error and its causes on one line (`a: b: c`), for step messages.
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(current) = cause {
        let text = current.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = current.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_hosts_are_checked() {
        let policy = AddressPolicy::new("127.0.0.2/32".parse().unwrap());
        let check = |url: &str| check_literal(&policy, &Url::parse(url).unwrap());
        assert!(check("http://127.0.0.1:8080/").is_err());
        assert!(check("http://127.0.0.2:8080/").is_ok());
        assert!(check("http://[::ffff:127.0.0.1]/").is_err());
        // The URL parser reads these as 127.0.0.1 too.
        assert!(check("http://2130706433/").is_err());
        assert!(check("http://0x7f.1/").is_err());
        assert!(check("http://[::1]/").is_err());
        assert!(check("http://example.com/").is_ok());
    }

    #[test]
    fn this_machines_addresses_are_known() {
        let own = own_addresses();
        assert!(own.contains(&IpAddr::from([127, 0, 0, 1])), "{own:?}");
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_fail() {
        let resolver = GuardedResolver {
            policy: Arc::new(AddressPolicy::default()),
        };
        let error = match resolver.resolve("localhost".parse().unwrap()).await {
            Ok(_) => panic!("localhost resolved"),
            Err(error) => error,
        };
        let refused = refusal_in(&*error).unwrap();
        assert!(
            refused.to_string().starts_with("localhost resolves to"),
            "{refused}"
        );
    }
}
