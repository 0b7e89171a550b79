//! Network rules without IO: lists of CIDR networks from configuration,
//! which addresses an `http:` step may reach, the client address behind
//! trusted proxies, the Host check and the security headers every response
//! carries.

pub mod address;
pub mod forwarded;
pub mod headers;
pub mod host;
pub mod networks;

pub use address::{AddressPolicy, Refused, Restricted, restriction};
pub use forwarded::client_address;
pub use host::{ExpectedHost, HostError};
pub use networks::{NetworkList, NetworkListError};
