//! Samples and their percentiles.

use serde::Serialize;
use std::time::Duration;

/// A figure's distribution: median, spread and how many samples made it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// The median.
    pub p50: f64,
    /// The 10th percentile.
    pub p10: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples.
    pub samples: usize,
}

impl Stats {
    /// The distribution of `samples` (any unit).
    ///
    /// # Panics
    ///
    /// If `samples` is empty.
    pub fn of(mut samples: Vec<f64>) -> Stats {
        assert!(!samples.is_empty(), "no samples");
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| {
            let i = ((samples.len() - 1) as f64 * q).round() as usize;
            samples[i]
        };
        Stats {
            p50: at(0.5),
            p10: at(0.1),
            p90: at(0.9),
            min: samples[0],
            max: samples[samples.len() - 1],
            samples: samples.len(),
        }
    }

    /// The distribution of durations, in nanoseconds.
    pub fn of_durations(samples: &[Duration]) -> Stats {
        Stats::of(samples.iter().map(|d| d.as_nanos() as f64).collect())
    }

    /// One figure (a rate or a total measured once).
    pub fn single(value: f64) -> Stats {
        Stats::of(vec![value])
    }

    /// Every figure mapped by `f` (which must be monotonic, increasing).
    pub fn map(self, f: impl Fn(f64) -> f64) -> Stats {
        Stats {
            p50: f(self.p50),
            p10: f(self.p10),
            p90: f(self.p90),
            min: f(self.min),
            max: f(self.max),
            samples: self.samples,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let s = Stats::of((1..=11).rev().map(f64::from).collect());
        assert_eq!(
            (s.min, s.p10, s.p50, s.p90, s.max),
            (1.0, 2.0, 6.0, 10.0, 11.0)
        );
        assert_eq!(s.samples, 11);
    }
}
