//! The host's time zone for every command: China time (UTC+8) unless
//! `--utc-offset` or `PLAZA_UTC_OFFSET` says otherwise. Monthly broadcast
//! quotas and yearly insurance caps roll over at midnight in it, mini-apps'
//! `clock::now` carries it, and the CLI shows times in it.

use std::sync::atomic::{AtomicI32, Ordering};

/// China time, minutes east of UTC: the CLI's default.
pub const CHINA_MINUTES: i32 = 480;

/// `--utc-offset`, on every command.
#[derive(Debug, Clone, clap::Args)]
pub struct ZoneArgs {
    /// The host's time zone, as an offset from UTC: +08:00 (China, the
    /// default), +00:00, -05:30. Months and years of quotas and insurance
    /// caps roll over in it, and times are shown in it.
    #[arg(
        long,
        value_name = "±HH:MM",
        global = true,
        env = "PLAZA_UTC_OFFSET",
        default_value = "+08:00",
        value_parser = parse_utc_offset,
        allow_hyphen_values = true
    )]
    pub utc_offset: i32,
}

static OFFSET: AtomicI32 = AtomicI32::new(CHINA_MINUTES);

/// Takes the command line's time zone.
pub fn init(args: &ZoneArgs) {
    OFFSET.store(args.utc_offset, Ordering::Relaxed);
}

/// The host's time zone, minutes east of UTC.
pub fn utc_offset_minutes() -> i32 {
    OFFSET.load(Ordering::Relaxed)
}

/// Parses `+08:00`, `-05:30`, `+8`, `0`, `Z` or `UTC` into minutes east of
/// UTC (within ±14 hours, the widest offset in use).
pub fn parse_utc_offset(text: &str) -> Result<i32, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") || t == "0" {
        return Ok(0);
    }
    let bad = || {
        format!("`{text}` is not an offset from UTC: write it as +08:00 (China), +00:00 or -05:30")
    };
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i32 = hours.parse().map_err(|_| bad())?;
    let minutes: i32 = minutes.parse().map_err(|_| bad())?;
    if !(0..60).contains(&minutes) || hours.abs() > 14 || (hours == 14 && minutes > 0) {
        return Err(format!(
            "`{text}` is outside -14:00..+14:00, the offsets in use"
        ));
    }
    Ok(sign * (hours * 60 + minutes))
}

/// `+08:00` for 480.
pub fn format_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!(parse_utc_offset("+08:00"), Ok(480));
        assert_eq!(parse_utc_offset("+8"), Ok(480));
        assert_eq!(parse_utc_offset("-05:30"), Ok(-330));
        assert_eq!(parse_utc_offset("UTC"), Ok(0));
        assert_eq!(parse_utc_offset("0"), Ok(0));
        assert!(parse_utc_offset("08:00").unwrap_err().contains("+08:00"));
        assert!(parse_utc_offset("+15:00").unwrap_err().contains("outside"));
        assert!(parse_utc_offset("+08:75").is_err());
        assert_eq!(format_offset(480), "+08:00");
        assert_eq!(format_offset(-330), "-05:30");
        assert_eq!(format_offset(0), "+00:00");
    }
}
