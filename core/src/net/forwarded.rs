//! The client's address behind reverse proxies. `X-Forwarded-For` is
//! believed only when the connection comes from a trusted proxy; then the
//! list is read from the right (each proxy appends the address it saw) and
//! the first address that is not itself a trusted proxy is the client.
//! Whatever lies left of it was written by the client and proves nothing.

use std::net::{IpAddr, SocketAddr};

use super::networks::NetworkList;

/// The client address of a request that came from `peer` carrying the
/// given `X-Forwarded-For` header values (in the order received).
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &NetworkList,
) -> IpAddr {
    if !trusted.contains(peer) {
        return peer.to_canonical();
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        let Some(addr) = parse_hop(hop) else {
            // A malformed entry: nothing left of it can be trusted; the
            // nearest proxy is all that is known.
            break;
        };
        if !trusted.contains(addr) {
            return addr.to_canonical();
        }
        nearest = addr;
    }
    nearest.to_canonical()
}

/// One entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn trusted() -> NetworkList {
        "10.0.0.0/8, 127.0.0.1".parse().unwrap()
    }

    #[test]
    fn untrusted_peers_are_the_client() {
        let got = client_address(ip("203.0.113.9"), ["198.51.100.1"], &trusted());
        assert_eq!(got, ip("203.0.113.9"));
        let none = NetworkList::default();
        assert_eq!(
            client_address(ip("127.0.0.1"), ["198.51.100.1"], &none),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn right_most_untrusted_address_wins() {
        let t = trusted();
        // The client forged the first entry; the proxy appended the real one.
        let got = client_address(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.7"], &t);
        assert_eq!(got, ip("198.51.100.7"));
        // Two proxies, two headers.
        let got = client_address(ip("10.0.0.2"), ["6.6.6.6, 198.51.100.7", "10.0.0.3"], &t);
        assert_eq!(got, ip("198.51.100.7"));
        // Ports and brackets.
        let got = client_address(ip("10.0.0.2"), ["[2001:db8::1]:4711"], &t);
        assert_eq!(got, ip("2001:db8::1"));
        let got = client_address(ip("10.0.0.2"), ["198.51.100.7:80"], &t);
        assert_eq!(got, ip("198.51.100.7"));
    }

    #[test]
    fn no_header_or_only_proxies_or_garbage() {
        let t = trusted();
        assert_eq!(client_address(ip("10.0.0.2"), [], &t), ip("10.0.0.2"));
        assert_eq!(
            client_address(ip("10.0.0.2"), ["10.0.0.9, 10.0.0.3"], &t),
            ip("10.0.0.9")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), ["198.51.100.7, nonsense, 10.0.0.3"], &t),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn mapped_peers_count_as_ipv4() {
        let got = client_address(ip("::ffff:10.0.0.2"), ["198.51.100.7"], &trusted());
        assert_eq!(got, ip("198.51.100.7"));
        let got = client_address(ip("::ffff:203.0.113.9"), ["1.1.1.1"], &trusted());
        assert_eq!(got, ip("203.0.113.9"));
    }
}
