//! Time stamps: Unix seconds (UTC) inside signed data, RFC 3339 in files, dates on sheets,
//! ISO 8601 with milliseconds where an exchange signs the time (OKX).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn datetime(secs: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs.min(253_402_300_799) as i64)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2026-11-28T18:00:00Z`.
pub fn rfc3339(secs: u64) -> String {
    datetime(secs)
        .format(&Rfc3339)
        .unwrap_or_else(|_| secs.to_string())
}

/// Parse an RFC 3339 time back to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

/// `20261128T180000Z`: basic ISO 8601 in UTC, for file names (no `:`).
pub fn compact(secs: u64) -> String {
    let t = datetime(secs);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `2020-12-08T09:08:57.715Z`: ISO 8601 in UTC with milliseconds, from Unix milliseconds.
pub fn iso8601_ms(ms: u64) -> String {
    let t = datetime(ms / 1000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        ms % 1000
    )
}

/// `2026-11-28`.
pub fn date(secs: u64) -> String {
    let d = datetime(secs).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `ms` milliseconds for a person: `0.3 s`, `42.0 s`, `3 min 20 s`, `5 h 2 min`, `3 d 4 h`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{:.1} s", ms as f64 / 1000.0),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(1_764_352_800), "2025-11-28");
        assert_eq!(compact(1_790_000_000), "20260921T141320Z");
        assert_eq!(parse_rfc3339(&rfc3339(1_764_352_800)), Some(1_764_352_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
        // OKX's documented timestamp, and milliseconds kept with leading zeros.
        assert_eq!(iso8601_ms(1_607_418_537_715), "2020-12-08T09:08:57.715Z");
        assert_eq!(iso8601_ms(1_607_418_537_005), "2020-12-08T09:08:57.005Z");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(340), "0.3 s");
        assert_eq!(duration(59_999), "60.0 s");
        assert_eq!(duration(200_000), "3 min 20 s");
        assert_eq!(duration(18_120_000), "5 h 2 min");
        assert_eq!(duration(288_000_000), "3 d 8 h");
    }
}
