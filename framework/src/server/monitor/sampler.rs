//! The monitor's charts: a bounded ring of one-second points, each the
//! difference of two readings of the counters behind `/metrics` (bytes in
//! and out, the tick histograms' sums and counts).

use serde::Serialize;
use std::collections::VecDeque;

/// One reading of the counters (totals since start).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Seconds spent running ticks, all room types.
    pub tick_duration_sum: f64,
    /// Seconds of lateness of tick starts, all room types.
    pub tick_lateness_sum: f64,
    /// Ticks run.
    pub ticks: u64,
}

/// One point of the charts: what happened between two readings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// The end of the interval, milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Mean lateness of the ticks that started in it, milliseconds (`None`:
    /// no tick ran).
    pub tick_lateness_ms: Option<f64>,
    /// Mean duration of the ticks run in it, milliseconds (`None`: none ran).
    pub tick_duration_ms: Option<f64>,
    /// Bytes received per second.
    pub bytes_in_per_sec: f64,
    /// Bytes sent per second.
    pub bytes_out_per_sec: f64,
}

/// The last `capacity` points (oldest dropped first).
#[derive(Debug, Clone)]
pub struct Series {
    capacity: usize,
    points: VecDeque<Point>,
    last: Option<Reading>,
}

impl Series {
    /// An empty series of at most `capacity` points (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Series { capacity, points: VecDeque::with_capacity(capacity), last: None }
    }

    /// Takes a reading; from the second one on, adds the point between it
    /// and the one before. A reading no later than the one before (a clock
    /// step back) only replaces it.
    pub fn record(&mut self, now: Reading) {
        let Some(prev) = self.last.replace(now) else { return };
        if now.at_ms <= prev.at_ms {
            return;
        }
        let secs = (now.at_ms - prev.at_ms) as f64 / 1000.0;
        let ticks = now.ticks.saturating_sub(prev.ticks);
        let mean_ms = |sum: f64, before: f64| (ticks > 0).then(|| (sum - before).max(0.0) * 1000.0 / ticks as f64);
        let point = Point {
            at_ms: now.at_ms,
            tick_lateness_ms: mean_ms(now.tick_lateness_sum, prev.tick_lateness_sum),
            tick_duration_ms: mean_ms(now.tick_duration_sum, prev.tick_duration_sum),
            bytes_in_per_sec: now.bytes_in.saturating_sub(prev.bytes_in) as f64 / secs,
            bytes_out_per_sec: now.bytes_out.saturating_sub(prev.bytes_out) as f64 / secs,
        };
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(point);
    }

    /// The points, oldest first.
    pub fn points(&self) -> impl Iterator<Item = &Point> + '_ {
        self.points.iter()
    }

    /// How many points it holds.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(sec: u64, bytes: u64, ticks: u64, tick_secs: f64) -> Reading {
        Reading {
            at_ms: sec * 1000,
            bytes_in: bytes,
            bytes_out: bytes * 2,
            tick_duration_sum: tick_secs,
            tick_lateness_sum: tick_secs / 2.0,
            ticks,
        }
    }

    #[test]
    fn points_are_differences_per_second() {
        let mut s = Series::new(10);
        s.record(reading(100, 0, 0, 0.0));
        assert!(s.is_empty(), "one reading makes no point");
        s.record(reading(102, 2000, 60, 0.120));
        let p = *s.points().next().unwrap();
        assert_eq!(p.at_ms, 102_000);
        assert_eq!((p.bytes_in_per_sec, p.bytes_out_per_sec), (1000.0, 2000.0));
        assert!((p.tick_duration_ms.unwrap() - 2.0).abs() < 1e-9);
        assert!((p.tick_lateness_ms.unwrap() - 1.0).abs() < 1e-9);
        s.record(reading(103, 2000, 60, 0.120));
        let idle = *s.points().last().unwrap();
        assert_eq!((idle.tick_duration_ms, idle.bytes_in_per_sec), (None, 0.0), "no tick ran: no mean");
    }

    #[test]
    fn the_ring_keeps_the_newest_points() {
        let mut s = Series::new(3);
        for sec in 0..10 {
            s.record(reading(sec, sec * 10, sec, 0.0));
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.points().map(|p| p.at_ms / 1000).collect::<Vec<_>>(), vec![7, 8, 9]);
        assert_eq!(Series::new(0).capacity, 1);
    }

    #[test]
    fn a_clock_step_back_adds_nothing() {
        let mut s = Series::new(5);
        s.record(reading(10, 0, 0, 0.0));
        s.record(reading(9, 100, 1, 0.0));
        assert!(s.is_empty());
        s.record(reading(11, 300, 2, 0.0));
        // From the reading at 9 s: 200 bytes in 2 s.
        assert_eq!(s.points().next().unwrap().bytes_in_per_sec, 100.0, "measured from the latest reading");
    }
}
