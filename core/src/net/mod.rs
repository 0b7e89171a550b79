//! Network rules without IO: lists of CIDR networks from configuration,
//! which addresses an `http:` step may reach, the client address behind
//! trusted proxies, the Host check, the security headers every response
//! carries and which answers may be compressed.

pub mod address;
pub mod compression;
pub mod forwarded;
pub mod headers;
pub mod host;
pub mod networks;

pub use address::{AddressPolicy, Refused, Restricted, restriction};
pub use forwarded::client_address;
pub use host::{ExpectedHost, HostError};
pub use networks::{NetworkList, NetworkListError};
