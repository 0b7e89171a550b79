//! Which addresses an outgoing request (an `http:` step) may reach: not the
//! machine itself (loopback, or any address of its own interfaces, which
//! would reach Kiln's own port when it listens on all of them), its link,
//! private or shared networks, nor multicast or broadcast, unless the admin
//! allow-lists the network. IPv4-mapped IPv6
//! forms (`::ffff:127.0.0.1`) and NAT64 forms (`64:ff9b::7f00:1`) are judged
//! as the IPv4 address they carry.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::networks::NetworkList;

/// Why an address is off limits by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restricted {
    Unspecified,
    Loopback,
    LinkLocal,
    Private,
    UniqueLocal,
    SharedAddressSpace,
    Multicast,
    Broadcast,
    /// IETF protocol assignments, benchmarking and other reserved ranges
    /// that are never a public web server.
    Reserved,
    /// One of the addresses of the machine making the request.
    ThisMachine,
}

impl Restricted {
    /// "a loopback address", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Restricted::Unspecified => "an unspecified address",
            Restricted::Loopback => "a loopback address",
            Restricted::LinkLocal => "a link-local address",
            Restricted::Private => "a private address",
            Restricted::UniqueLocal => "a unique-local address",
            Restricted::SharedAddressSpace => "a shared (carrier-grade NAT) address",
            Restricted::Multicast => "a multicast address",
            Restricted::Broadcast => "a broadcast address",
            Restricted::Reserved => "a reserved address",
            Restricted::ThisMachine => "an address of this machine",
        }
    }
}

/// The restriction `addr` falls under, if any.
pub fn restriction(addr: IpAddr) -> Option<Restricted> {
    match addr {
        IpAddr::V4(v4) => restriction_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => restriction_v4(v4),
            None => restriction_v6(v6),
        },
    }
}

fn restriction_v4(addr: Ipv4Addr) -> Option<Restricted> {
    let [a, b, _, _] = addr.octets();
    Some(if addr.is_unspecified() || a == 0 {
        // 0.0.0.0/8: "this network"; connecting to it reaches this host.
        Restricted::Unspecified
    } else if addr.is_loopback() {
        Restricted::Loopback
    } else if addr.is_link_local() {
        Restricted::LinkLocal
    } else if addr.is_private() {
        Restricted::Private
    } else if a == 100 && (b & 0b1100_0000) == 64 {
        // 100.64.0.0/10 (RFC 6598).
        Restricted::SharedAddressSpace
    } else if addr.is_broadcast() {
        Restricted::Broadcast
    } else if addr.is_multicast() {
        Restricted::Multicast
    } else if (a == 192 && b == 0 && addr.octets()[2] == 0)
        || (a == 198 && (b & 0xfe) == 18)
        || a >= 240
    {
        // 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4.
        Restricted::Reserved
    } else {
        return None;
    })
}

fn restriction_v6(addr: Ipv6Addr) -> Option<Restricted> {
    let first = addr.segments()[0];
    Some(if addr.is_unspecified() {
        Restricted::Unspecified
    } else if addr.is_loopback() {
        Restricted::Loopback
    } else if (first & 0xffc0) == 0xfe80 {
        Restricted::LinkLocal
    } else if (first & 0xffc0) == 0xfec0 {
        // Deprecated site-local: private in effect.
        Restricted::Private
    } else if (first & 0xfe00) == 0xfc00 {
        Restricted::UniqueLocal
    } else if addr.is_multicast() {
        Restricted::Multicast
    } else {
        return None;
    })
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, deprecated) and NAT64 (`64:ff9b::/96`).
fn embedded_v4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = addr.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = addr.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let compatible =
        s[..6].iter().all(|&x| x == 0) && !addr.is_loopback() && !addr.is_unspecified();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0);
    (compatible || nat64).then(tail)
}

/// An address refused by the policy, for the step's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The name that was asked for (a host name or the address itself).
    pub host: String,
    pub addr: IpAddr,
    pub why: Restricted,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = self.addr.to_string();
        if self.host.trim_start_matches('[').trim_end_matches(']') == addr {
            write!(f, "{addr} is {}", self.why.describe())?;
        } else {
            write!(
                f,
                "{} resolves to {addr}, {}",
                self.host,
                self.why.describe()
            )?;
        }
        write!(
            f,
            "; allow it with http_step_allow_networks if steps may reach it"
        )
    }
}

impl std::error::Error for Refused {}

/// The networks an outgoing request may reach despite their restriction,
/// and the addresses of the machine making it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    pub allow: NetworkList,
    own: Vec<IpAddr>,
}

impl AddressPolicy {
    pub fn new(allow: NetworkList) -> Self {
        AddressPolicy {
            allow,
            own: Vec::new(),
        }
    }

    /// Also refuses these addresses (the machine's own interfaces).
    pub fn with_own_addresses(mut self, own: impl IntoIterator<Item = IpAddr>) -> Self {
        self.own = own.into_iter().map(|a| a.to_canonical()).collect();
        self
    }

    /// Whether `host` (as asked for) may be reached at `addr`.
    pub fn check(&self, host: &str, addr: IpAddr) -> Result<(), Refused> {
        let own = || {
            self.own
                .contains(&addr.to_canonical())
                .then_some(Restricted::ThisMachine)
        };
        match restriction(addr).or_else(own) {
            Some(why) if !self.allow.contains(addr) => Err(Refused {
                host: host.to_owned(),
                addr,
                why,
            }),
            _ => Ok(()),
        }
    }

    /// The addresses of `host` that may be reached, or the first refusal
    /// when none may.
    pub fn filter(&self, host: &str, addrs: &[IpAddr]) -> Result<Vec<IpAddr>, Refused> {
        let mut first_refusal = None;
        let mut allowed = Vec::new();
        for &addr in addrs {
            match self.check(host, addr) {
                Ok(()) => allowed.push(addr),
                Err(refused) => {
                    first_refusal.get_or_insert(refused);
                }
            }
        }
        match first_refusal {
            Some(refused) if allowed.is_empty() => Err(refused),
            _ => Ok(allowed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn restricted_ranges() {
        use Restricted::*;
        let table = [
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("169.254.169.254", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.0.1", Some(Private)),
            ("fec0::1", Some(Private)),
            ("fd00::1", Some(UniqueLocal)),
            ("fc00::1", Some(UniqueLocal)),
            ("100.64.0.1", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("224.0.0.1", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("240.0.0.1", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("192.0.0.8", Some(Reserved)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b::7f00:1", Some(Loopback)),
            // Public ones.
            ("1.1.1.1", None),
            ("100.63.255.255", None),
            ("100.128.0.0", None),
            ("172.32.0.1", None),
            ("8.8.8.8", None),
            ("2001:4860:4860::8888", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
        ];
        for (text, expected) in table {
            assert_eq!(restriction(ip(text)), expected, "{text}");
        }
    }

    #[test]
    fn allow_list_lets_networks_through() {
        let policy = AddressPolicy::new("127.0.0.0/8, fd00::/8".parse().unwrap());
        assert!(policy.check("localhost", ip("127.0.0.1")).is_ok());
        assert!(policy.check("x", ip("::ffff:127.0.0.1")).is_ok());
        assert!(policy.check("x", ip("fd00::5")).is_ok());
        assert!(policy.check("x", ip("10.0.0.1")).is_err());
        assert!(policy.check("x", ip("8.8.8.8")).is_ok());
    }

    #[test]
    fn the_machines_own_addresses_are_refused_unless_allowed() {
        let policy = AddressPolicy::default().with_own_addresses([ip("203.0.113.5"), ip("::1")]);
        let refused = policy.check("ci.example", ip("203.0.113.5")).unwrap_err();
        assert_eq!(refused.why, Restricted::ThisMachine);
        assert!(refused.to_string().contains("an address of this machine"));
        assert!(policy.check("x", ip("::ffff:203.0.113.5")).is_err());
        assert!(policy.check("x", ip("203.0.113.6")).is_ok());
        // Loopback keeps its own, plainer name.
        assert_eq!(
            policy.check("x", ip("::1")).unwrap_err().why,
            Restricted::Loopback
        );
        let allowed = AddressPolicy::new("203.0.113.0/24".parse().unwrap())
            .with_own_addresses([ip("203.0.113.5")]);
        assert!(allowed.check("x", ip("203.0.113.5")).is_ok());
    }

    #[test]
    fn refusals_say_what_and_how_to_allow() {
        let policy = AddressPolicy::default();
        let named = policy.check("localhost", ip("127.0.0.1")).unwrap_err();
        assert_eq!(
            named.to_string(),
            "localhost resolves to 127.0.0.1, a loopback address; \
             allow it with http_step_allow_networks if steps may reach it"
        );
        let literal = policy.check("[::1]", ip("::1")).unwrap_err();
        assert!(
            literal
                .to_string()
                .starts_with("::1 is a loopback address;"),
            "{literal}"
        );
    }

    #[test]
    fn filter_keeps_allowed_addresses() {
        let policy = AddressPolicy::new("127.0.0.0/8".parse().unwrap());
        let both = [ip("::1"), ip("127.0.0.1")];
        assert_eq!(
            policy.filter("localhost", &both).unwrap(),
            vec![ip("127.0.0.1")]
        );
        let refused = AddressPolicy::default()
            .filter("localhost", &both)
            .unwrap_err();
        assert_eq!(refused.addr, ip("::1"));
        let public = [ip("8.8.8.8"), ip("10.0.0.1")];
        assert_eq!(
            AddressPolicy::default().filter("mixed", &public).unwrap(),
            vec![ip("8.8.8.8")]
        );
    }
}
