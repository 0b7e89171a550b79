//! A schedule's cron expression: five fields (minute, hour, day of month,
//! month, day of week), an optional leading seconds field, or one of the
//! `@daily`-style macros. The crate `croner` parses and matches it (Vixie
//! semantics: day of month and day of week both restricted means either);
//! this module only expands the macros croner lacks, bounds the text, names
//! the field an error is in, and refuses expressions that never fire.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

/// Longest expression accepted.
pub const MAX_EXPRESSION_BYTES: usize = 256;

/// The macros and what they stand for.
const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The fields of a five-field expression, in order, with their ranges.
const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];
const SECOND: (&str, u32, u32) = ("second", 0, 59);

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct CronExpr {
    text: String,
    pub(super) cron: Cron,
    /// The hour field has `*` or a step: the expression keeps its
    /// real-time rhythm through daylight-saving changes instead of firing
    /// once per wall-clock slot.
    pub(super) hour_rhythm: bool,
}

/// Why an expression was refused: the field (when one is to blame) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", field.map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct CronError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl CronError {
    fn whole(message: impl Into<String>) -> CronError {
        CronError {
            field: None,
            message: message.into(),
        }
    }
}

impl CronExpr {
    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it keeps real-time rhythm through daylight-saving changes.
    pub fn keeps_rhythm(&self) -> bool {
        self.hour_rhythm
    }
}

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(text: &str) -> Result<CronExpr, CronError> {
        parse(text)
    }
}

fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        // Vixie cron: either day field matching is enough.
        .dom_and_dow(false)
        .build()
}

/// Parses `text`; errors name the field and the value.
pub fn parse(text: &str) -> Result<CronExpr, CronError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CronError::whole("the expression is empty"));
    }
    if trimmed.len() > MAX_EXPRESSION_BYTES {
        return Err(CronError::whole(format!(
            "the expression is longer than {MAX_EXPRESSION_BYTES} bytes"
        )));
    }
    let expanded = expand_macro(trimmed)?;
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    let names: Vec<(&str, u32, u32)> = match fields.len() {
        5 => FIELDS.to_vec(),
        6 => std::iter::once(SECOND).chain(FIELDS).collect(),
        n => {
            return Err(CronError::whole(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), or 6 with \
                 seconds first; found {n}"
            )));
        }
    };
    let cron = parser()
        .parse(&expanded)
        .map_err(|error| blame(&fields, &names, &error))?;
    let hour = fields[names.len() - 4];
    let hour_rhythm = hour.contains('*') || hour.contains('/');
    let expr = CronExpr {
        text: trimmed.to_owned(),
        cron,
        hour_rhythm,
    };
    if !expr.ever_fires() {
        return Err(CronError::whole(
            "the expression can never fire: no date matches its day and month fields",
        ));
    }
    Ok(expr)
}

fn expand_macro(text: &str) -> Result<String, CronError> {
    if !text.starts_with('@') {
        return Ok(text.to_owned());
    }
    MACROS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, fields)| (*fields).to_owned())
        .ok_or_else(|| {
            let known: Vec<&str> = MACROS.iter().map(|(name, _)| *name).collect();
            CronError::whole(format!(
                "{text:?} is not a known macro; use one of {}",
                known.join(", ")
            ))
        })
}

/// The field croner's `error` comes from: the first field that fails on
/// its own (every other field `*`), with the number out of its range when
/// there is one.
fn blame(
    fields: &[&str],
    names: &[(&'static str, u32, u32)],
    error: &croner::errors::CronError,
) -> CronError {
    for (index, &(name, low, high)) in names.iter().enumerate() {
        let alone: Vec<&str> = (0..fields.len())
            .map(|i| if i == index { fields[i] } else { "*" })
            .collect();
        if parser().parse(&alone.join(" ")).is_ok() {
            continue;
        }
        let field = fields[index];
        let outside = field
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|digits| digits.parse::<u64>().ok())
            .find(|&n| n < u64::from(low) || n > u64::from(high));
        let message = match outside {
            Some(n) => format!("{n} is outside {low}–{high}"),
            None => format!("{field:?} is not valid here ({})", describe(error)),
        };
        return CronError {
            field: Some(name),
            message,
        };
    }
    CronError::whole(describe(error))
}

fn describe(error: &croner::errors::CronError) -> String {
    use croner::errors::CronError as E;
    match error {
        E::ComponentError(text) | E::InvalidPattern(text) | E::IllegalCharacters(text) => {
            text.trim_end_matches('.').to_owned()
        }
        other => other.to_string().trim_end_matches('.').to_owned(),
    }
}

impl CronExpr {
    /// Whether any date matches: every day of a 28-year cycle (leap years
    /// and weekdays repeat with it) asked of croner's own day and month
    /// matching. About 10,000 cheap checks, where croner's search for a
    /// pattern that never fires runs on to the year 5000 (tens of ms).
    fn ever_fires(&self) -> bool {
        let pattern = &self.cron.pattern;
        (2000..2028).any(|year| {
            (1..=12u32).any(|month| {
                pattern.month_match(month).unwrap_or(false)
                    && (1..=days_in(year, month))
                        .any(|day| pattern.day_match(year, month, day).unwrap_or(false))
            })
        })
    }
}

fn days_in(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt())
        .map_or(28, |last| last.day())
}
