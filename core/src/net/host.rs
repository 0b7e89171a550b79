//! The Host check against DNS rebinding: when Kiln knows the URL it is
//! reached at (`public_url`), a request naming another host was sent to an
//! address some other name resolves to, and is refused before any cookie or
//! Origin comparison sees it.

use url::Url;

/// The host and port requests must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedHost {
    /// Lower case, IPv6 in brackets, no trailing dot.
    host: String,
    port: u16,
    default_port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("public_url {0:?} is not an http(s) URL with a host")]
    BadPublicUrl(String),
}

impl ExpectedHost {
    pub fn from_public_url(public_url: &str) -> Result<Self, HostError> {
        let bad = || HostError::BadPublicUrl(public_url.to_owned());
        let url = Url::parse(public_url).map_err(|_| bad())?;
        let default_port = match url.scheme() {
            "http" => 80,
            "https" => 443,
            _ => return Err(bad()),
        };
        let host = url.host_str().ok_or_else(bad)?;
        Ok(ExpectedHost {
            host: normalize(host),
            port: url.port().unwrap_or(default_port),
            default_port,
        })
    }

    /// `host[:port]` as a Host header would carry it.
    pub fn authority(&self) -> String {
        if self.port == self.default_port {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether a request's Host header (or HTTP/2 `:authority`) names this
    /// host; the scheme's default port may be written or left out.
    pub fn matches(&self, host_header: &str) -> bool {
        let Some((host, port)) = split_authority(host_header.trim()) else {
            return false;
        };
        let port = match port {
            None => self.default_port,
            Some(text) => match text.parse::<u16>() {
                Ok(port) => port,
                Err(_) => return false,
            },
        };
        normalize(host) == self.host && port == self.port
    }
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `example.com:8080` → (`example.com`, `8080`); `[::1]:80` → (`[::1]`, `80`).
fn split_authority(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.is_empty() || authority.contains(['/', '@', ' ']) {
        return None;
    }
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => Some((host, Some(port))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    Some(match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_may_be_written_or_not() {
        let expected = ExpectedHost::from_public_url("https://Kiln.Example.com/").unwrap();
        assert_eq!(expected.authority(), "kiln.example.com");
        for ok in [
            "kiln.example.com",
            "KILN.example.com:443",
            "kiln.example.com.",
        ] {
            assert!(expected.matches(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "kiln.example.com:80",
            "kiln.example.com.evil.example",
            "127.0.0.1",
            "",
            "kiln.example.com:x",
            "user@kiln.example.com",
        ] {
            assert!(!expected.matches(bad), "{bad}");
        }
    }

    #[test]
    fn explicit_ports_must_match() {
        let expected = ExpectedHost::from_public_url("http://ci.local:3000").unwrap();
        assert_eq!(expected.authority(), "ci.local:3000");
        assert!(expected.matches("ci.local:3000"));
        assert!(!expected.matches("ci.local"));
        assert!(!expected.matches("ci.local:3001"));
    }

    #[test]
    fn ip_hosts() {
        let v6 = ExpectedHost::from_public_url("http://[::1]:8080/kiln").unwrap();
        assert!(v6.matches("[::1]:8080"));
        assert!(!v6.matches("[::2]:8080"));
        assert!(!v6.matches("[::1]x"));
        let v4 = ExpectedHost::from_public_url("http://192.0.2.1").unwrap();
        assert!(v4.matches("192.0.2.1:80"));
    }

    #[test]
    fn public_url_must_be_http() {
        assert!(ExpectedHost::from_public_url("ftp://x").is_err());
        assert!(ExpectedHost::from_public_url("not a url").is_err());
    }
}
