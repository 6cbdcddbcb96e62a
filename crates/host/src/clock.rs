//! Where the host's time and ids come from: the system in production, a
//! manual clock and sequential ids in tests, so a test run is deterministic.
//!
//! ```
//! use plaza_host::clock::{Clock, ManualClock};
//! use std::time::Duration;
//! let clock = ManualClock::new(1_700_000_000_000);
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(clock.now_ms(), 1_700_000_060_000);
//! ```

use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told: for tests and scenarios.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `start_ms` milliseconds since the Unix epoch.
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            now: Arc::new(AtomicI64::new(start_ms)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, ms: i64) {
        self.now.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// A source of the ids the host makes (sessions, later transactions and
/// messages).
pub trait IdSource: Send + Sync + 'static {
    /// A new id, starting with `prefix` (such as `s-` for sessions).
    fn next_id(&self, prefix: &str) -> String;
}

/// Unpredictable ids: a hash of the time, the process, a per-host random seed
/// and a counter.
#[derive(Debug)]
pub struct RandomIds {
    seed: [u8; 16],
    counter: AtomicU64,
}

impl Default for RandomIds {
    fn default() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut seed = [0u8; 16];
        for (i, chunk) in seed.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
        RandomIds {
            seed,
            counter: AtomicU64::new(0),
        }
    }
}

impl IdSource for RandomIds {
    fn next_id(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(n.to_le_bytes());
        h.update(SystemClock.now_ms().to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        let digest = h.finalize();
        format!("{prefix}{}", crate::hex::encode(&digest[..10]))
    }
}

/// Ids `prefix` + a counter: `s-000001`, `s-000002`, ... — for tests.
///
/// The counter starts at 1 in every new `SequentialIds`: a store reopened by
/// another process (a restart after a crash) already holds those ids, and the
/// first payment would collide with a stored transaction. Share one
/// `SequentialIds` between the hosts of one process, or use [`RandomIds`]
/// (the default) for a store that outlives the process.
#[derive(Debug, Default)]
pub struct SequentialIds {
    counter: AtomicU64,
}

impl IdSource for SequentialIds {
    fn next_id(&self, prefix: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        format!("{prefix}{n:06}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_differ_and_sequential_ids_count() {
        let r = RandomIds::default();
        assert_ne!(r.next_id("s-"), r.next_id("s-"));
        let s = SequentialIds::default();
        assert_eq!(s.next_id("s-"), "s-000001");
        assert_eq!(s.next_id("s-"), "s-000002");
    }
}

/// The civil date `(year, month, day)` of `ms` milliseconds since the epoch,
/// shifted by `utc_offset_minutes` (the host's time zone).
pub fn civil_date(ms: i64, utc_offset_minutes: i32) -> (i32, u32, u32) {
    let local = ms + utc_offset_minutes as i64 * 60_000;
    let days = local.div_euclid(86_400_000);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + if m <= 2 { 1 } else { 0 }) as i32;
    (y, m, d)
}

/// When the day `YYYY-MM-DD` starts in the host's time zone, ms since the
/// epoch; `None` if `day` is not a date of that form (years 1970 to 9999).
pub fn day_start_ms(day: &str, utc_offset_minutes: i32) -> Option<i64> {
    let mut parts = day.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let start = days * 86_400_000 - utc_offset_minutes as i64 * 60_000;
    // A day past the month's end (2026-02-30) comes back as another date.
    (civil_date(start, utc_offset_minutes) == (y as i32, m as u32, d as u32)).then_some(start)
}

#[cfg(test)]
mod civil_tests {
    #[test]
    fn dates_in_a_time_zone() {
        // 2026-12-31 20:00 UTC is 2027-01-01 04:00 in China.
        let ms = 1_798_747_200_000;
        assert_eq!(super::civil_date(ms, 0), (2026, 12, 31));
        assert_eq!(super::civil_date(ms, 480), (2027, 1, 1));
        assert_eq!(super::civil_date(0, 0), (1970, 1, 1));
        assert_eq!(super::civil_date(951_782_400_000, 0), (2000, 2, 29));
    }

    #[test]
    fn days_start_in_a_time_zone() {
        assert_eq!(super::day_start_ms("1970-01-01", 0), Some(0));
        assert_eq!(super::day_start_ms("2000-02-29", 0), Some(951_782_400_000));
        // Midnight in China is 16:00 UTC the day before.
        assert_eq!(
            super::day_start_ms("2027-01-01", 480),
            Some(1_798_761_600_000 - 8 * 3_600_000)
        );
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-01",
            "x",
            "2026-01-01-",
        ] {
            assert_eq!(super::day_start_ms(bad, 0), None, "{bad}");
        }
    }
}
