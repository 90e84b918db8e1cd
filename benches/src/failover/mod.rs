//! The failover benchmark's pieces; `src/bin/failover_bench.rs` runs the
//! rounds and prints the figures.
//!
//! - [`node`]: an `arena` cluster node as a child process, pinned to a CPU
//!   with `taskset`; signals, and the instant it exited.
//! - [`players`]: `ReconnectingClient` players that play (one input per
//!   state) and log when each state, notice, attempt and resume came.
//! - [`watch`]: polls a survivor's `/rooms` and notes when each room left
//!   the listing (its lease ran out, or it was released) and when a node
//!   other than the lost one listed it (the claim).
//! - [`report`]: the samples of the rounds, their quantiles, the table and
//!   the JSON line.

pub mod node;
pub mod players;
pub mod report;
pub mod watch;

use serde::Serialize;
use std::time::Duration;

/// Quantiles of a set of durations, in milliseconds.
#[derive(Serialize, Debug, Default, Clone, Copy, PartialEq)]
pub struct Spread {
    /// How many samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The nearest-rank quantiles of `samples` (all zero when empty).
    pub fn of(samples: &[Duration]) -> Spread {
        let mut v: Vec<Duration> = samples.to_vec();
        v.sort();
        let at = |q: f64| {
            let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len().max(1)) - 1;
            v.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Spread { n: v.len(), p50: at(0.5), p99: at(0.99), max: at(1.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_nearest_rank() {
        let ms = |v: &[u64]| v.iter().map(|m| Duration::from_millis(*m)).collect::<Vec<_>>();
        let s = Spread::of(&ms(&[30, 10, 20]));
        assert_eq!((s.n, s.p50, s.p99, s.max), (3, 20.0, 30.0, 30.0));
        let hundred: Vec<u64> = (1..=100).collect();
        let s = Spread::of(&ms(&hundred));
        assert_eq!((s.p50, s.p99, s.max), (50.0, 99.0, 100.0));
        assert_eq!(Spread::of(&[]), Spread::default());
    }
}
