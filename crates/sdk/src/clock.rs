//! The host's clock (`plaza:host/clock`; manifest `[capabilities.clock]`).
//!
//! Use it rather than WASI's clocks for anything the user sees: in tests the
//! host runs on a deterministic clock, and this one follows it.
//!
//! ```no_run
//! let now = plaza_sdk::clock::now();
//! let local = now.local();
//! let shown = format!("{:04}-{:02}-{:02} {:02}:{:02}", local.year, local.month, local.day, local.hour, local.minute);
//! # let _ = shown;
//! ```

use crate::bindings::plaza::host::clock as wit;

pub use wit::Datetime;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The current time, with the host's time-zone offset.
pub fn now() -> Datetime {
    wit::now()
}

impl Datetime {
    /// This moment in the host's time zone, as a calendar date and time.
    pub fn local(&self) -> LocalTime {
        LocalTime::from_unix_ms(self.unix_ms, self.utc_offset_minutes)
    }
}

/// A calendar date and time of day (proleptic Gregorian calendar), computed
/// without any host call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    /// The year, such as 2026.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
    /// The hour, 0 to 23.
    pub hour: u8,
    /// The minute, 0 to 59.
    pub minute: u8,
    /// The second, 0 to 59.
    pub second: u8,
    /// The day of the week, 0 for Monday to 6 for Sunday.
    pub weekday: u8,
}

impl LocalTime {
    /// The local date and time of `unix_ms` (milliseconds since the Unix
    /// epoch) at `utc_offset_minutes` from UTC.
    pub fn from_unix_ms(unix_ms: i64, utc_offset_minutes: i32) -> LocalTime {
        let local_ms = unix_ms + i64::from(utc_offset_minutes) * 60_000;
        let days = local_ms.div_euclid(DAY_MS);
        let ms_of_day = local_ms.rem_euclid(DAY_MS);
        let secs = ms_of_day / 1000;
        let (year, month, day) = civil_from_days(days);
        LocalTime {
            year,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            // 1970-01-01 was a Thursday (3 counting from Monday = 0).
            weekday: (days + 3).rem_euclid(7) as u8,
        }
    }

    /// The English three-letter name of the weekday (`"Mon"` to `"Sun"`).
    pub fn weekday_name(&self) -> &'static str {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(self.weekday % 7)]
    }
}

/// Year, month and day of the day `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_of_known_moments() {
        let epoch = LocalTime::from_unix_ms(0, 0);
        assert_eq!((epoch.year, epoch.month, epoch.day), (1970, 1, 1));
        assert_eq!(epoch.weekday_name(), "Thu");

        // 2026-11-02T01:30:00Z is 09:30 on Monday in China Standard Time.
        let t = LocalTime::from_unix_ms(1_793_583_000_000, 480);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.weekday_name()),
            (2026, 11, 2, 9, 30, "Mon")
        );

        // Before the epoch.
        let t = LocalTime::from_unix_ms(-1, 0);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.second),
            (1969, 12, 31, 23, 59)
        );
    }
}
