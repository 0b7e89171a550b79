//! Durations said the way a person reads them next to a time: "in 3 min",
//! "5 h ago".

/// `delta_ms` from now: positive is in the future.
pub fn relative(delta_ms: i64) -> String {
    let past = delta_ms < 0;
    let seconds = delta_ms.unsigned_abs() / 1000;
    let amount = match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min", seconds / 60),
        3600..=86_399 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86_400),
    };
    if past {
        format!("{amount} ago")
    } else {
        format!("in {amount}")
    }
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn reads_like_speech() {
        assert_eq!(relative(0), "in 0 s");
        assert_eq!(relative(45_000), "in 45 s");
        assert_eq!(relative(180_000), "in 3 min");
        assert_eq!(relative(-7_200_000), "2 h ago");
        assert_eq!(relative(3 * 86_400_000 + 5), "in 3 d");
        assert_eq!(
            relative(i64::MIN),
            format!("{} d ago", i64::MIN.unsigned_abs() / 1000 / 86_400)
        );
    }
}
