//! A list of networks in CIDR form (`10.0.0.0/8, ::1/128`) as configuration
//! gives it: a comma-separated string (environment variables) or a list of
//! strings (TOML). A bare address means that one address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkList(Vec<IpNet>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a network in CIDR form (like 10.0.0.0/8 or fd00::/8) nor an IP address")]
pub struct NetworkListError(pub String);

impl NetworkList {
    pub fn new(networks: Vec<IpNet>) -> Self {
        NetworkList(networks.into_iter().map(|n| n.trunc()).collect())
    }

    /// This machine's loopback addresses (127.0.0.0/8, ::1).
    pub fn loopback() -> Self {
        let v4 = ipnet::Ipv4Net::new(std::net::Ipv4Addr::LOCALHOST, 8).ok();
        let v6 = ipnet::Ipv6Net::new(std::net::Ipv6Addr::LOCALHOST, 128).ok();
        NetworkList::new(
            v4.map(IpNet::V4)
                .into_iter()
                .chain(v6.map(IpNet::V6))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether `addr` is in one of the networks. An IPv4-mapped IPv6
    /// address (`::ffff:10.1.2.3`) is also looked up as its IPv4 form.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let plain = addr.to_canonical();
        self.0
            .iter()
            .any(|net| net.contains(&addr) || net.contains(&plain))
    }

    fn parse_one(text: &str) -> Result<IpNet, NetworkListError> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map(|net| net.trunc())
            .map_err(|_| NetworkListError(text.to_owned()))
    }
}

impl FromStr for NetworkList {
    type Err = NetworkListError;

    /// Comma-separated; blanks between commas are ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Self::parse_one)
            .collect::<Result<Vec<_>, _>>()
            .map(NetworkList)
    }
}

impl fmt::Display for NetworkList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&all.join(","))
    }
}

impl Serialize for NetworkList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for net in &self.0 {
            seq.serialize_element(&net.to_string())?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for NetworkList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = NetworkList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("CIDR networks, as a list or one comma-separated string")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<NetworkList, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NetworkList, A::Error> {
                let mut all = Vec::new();
                while let Some(text) = seq.next_element::<String>()? {
                    let list: NetworkList = text.parse().map_err(de::Error::custom)?;
                    all.extend(list.0);
                }
                Ok(NetworkList(all))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_is_loopback_only() {
        let local = NetworkList::loopback();
        for addr in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            assert!(local.contains(ip(addr)), "{addr}");
        }
        for addr in ["10.1.2.3", "169.254.169.254", "fd00::1", "8.8.8.8"] {
            assert!(!local.contains(ip(addr)), "{addr}");
        }
    }

    #[test]
    fn parses_comma_separated_networks_and_addresses() {
        let list: NetworkList = " 10.0.0.0/8, fd00::/8,,192.168.1.7 ".parse().unwrap();
        assert_eq!(list.to_string(), "10.0.0.0/8,fd00::/8,192.168.1.7/32");
        assert!(list.contains(ip("10.200.0.1")));
        assert!(list.contains(ip("fd12::1")));
        assert!(list.contains(ip("192.168.1.7")));
        assert!(!list.contains(ip("192.168.1.8")));
        assert!("".parse::<NetworkList>().unwrap().is_empty());
    }

    #[test]
    fn host_bits_are_dropped() {
        let list: NetworkList = "127.0.0.1/8".parse().unwrap();
        assert_eq!(list.to_string(), "127.0.0.0/8");
    }

    #[test]
    fn mapped_addresses_match_their_ipv4_network() {
        let list: NetworkList = "127.0.0.0/8".parse().unwrap();
        assert!(list.contains(ip("::ffff:127.0.0.2")));
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in ["10.0.0.0/33", "example.com", "10.0.0/8", "::1/129"] {
            let err = format!("1.2.3.4,{bad}").parse::<NetworkList>().unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn deserializes_from_a_string_or_a_list() {
        let from_string: NetworkList = serde_json::from_str("\"10.0.0.0/8,::1/128\"").unwrap();
        let from_list: NetworkList = serde_json::from_str("[\"10.0.0.0/8\", \"::1/128\"]").unwrap();
        assert_eq!(from_string, from_list);
        let back = serde_json::to_string(&from_list).unwrap();
        assert_eq!(back, "[\"10.0.0.0/8\",\"::1/128\"]");
        assert!(serde_json::from_str::<NetworkList>("\"nope\"").is_err());
    }
}
