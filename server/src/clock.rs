//! Kiln's one wall clock and its formats: engine rows store Unix
//! milliseconds (step durations and queue waits are that fine), account
//! rows Unix seconds (their schema's unit); JSON shows both as RFC 3339.

/// Now, in Unix milliseconds (engine rows, events, jobs).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Now, in Unix seconds (account rows).
pub fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Unix milliseconds as RFC 3339 with milliseconds.
pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Unix seconds as RFC 3339.
pub fn s_to_rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ms_to_rfc3339(1_500), "1970-01-01T00:00:01.500Z");
        assert_eq!(s_to_rfc3339(61), "1970-01-01T00:01:01Z");
        assert!((now_ms() / 1000 - now_s()).abs() <= 1);
    }
}
