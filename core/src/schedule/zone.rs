//! A schedule's time zone: an IANA name (`Europe/Berlin`), UTC by default.

use chrono_tz::Tz;

/// The zone a schedule without one uses.
pub const DEFAULT_ZONE: &str = "UTC";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a known IANA time zone; write e.g. Europe/Berlin, America/New_York or UTC")]
pub struct ZoneError(pub String);

/// The zone named `name` (exactly as the IANA database spells it).
pub fn parse_zone(name: &str) -> Result<Tz, ZoneError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(Tz::UTC);
    }
    name.parse::<Tz>()
        .map_err(|_| ZoneError(name.chars().take(64).collect()))
}
