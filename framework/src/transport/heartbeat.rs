//! Heartbeat bookkeeping: when to ping, when the peer has gone quiet, and a
//! smoothed round-trip time from the pongs. A plain struct driven by the
//! transport actor's timer, so it is tested with made-up instants.

use std::time::{Duration, Instant};

/// What the transport should do on a heartbeat tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeartbeatAction {
    /// Send a ping with this payload.
    Ping(Vec<u8>),
    /// Nothing arrived for longer than the idle timeout: close.
    TimedOut,
}

/// Tracks liveness and RTT of one connection.
///
/// ```
/// use playhouse::transport::{Heartbeat, HeartbeatAction};
/// use std::time::{Duration, Instant};
///
/// let t0 = Instant::now();
/// let mut hb = Heartbeat::new(t0, Duration::from_secs(15));
/// let HeartbeatAction::Ping(p) = hb.tick(t0 + Duration::from_secs(5)) else { panic!() };
/// hb.pong(&p, t0 + Duration::from_millis(5020));
/// assert_eq!(hb.rtt(), Some(Duration::from_millis(20)));
/// assert_eq!(hb.tick(t0 + Duration::from_secs(21)), HeartbeatAction::TimedOut);
/// ```
#[derive(Debug)]
pub struct Heartbeat {
    origin: Instant,
    last_seen: Instant,
    idle_timeout: Duration,
    rtt: Option<Duration>,
}

impl Heartbeat {
    /// Starts tracking at `now`; the peer must show life every `idle_timeout`.
    pub fn new(now: Instant, idle_timeout: Duration) -> Self {
        Heartbeat { origin: now, last_seen: now, idle_timeout, rtt: None }
    }

    /// Anything arrived from the peer.
    pub fn seen(&mut self, now: Instant) {
        self.last_seen = now;
    }

    /// The heartbeat timer fired.
    pub fn tick(&mut self, now: Instant) -> HeartbeatAction {
        if now.saturating_duration_since(self.last_seen) > self.idle_timeout {
            return HeartbeatAction::TimedOut;
        }
        let micros = now.saturating_duration_since(self.origin).as_micros() as u64;
        HeartbeatAction::Ping(micros.to_be_bytes().to_vec())
    }

    /// A pong arrived; if it answers one of our pings, update the RTT
    /// (exponentially weighted, 1/8 like TCP's SRTT).
    pub fn pong(&mut self, payload: &[u8], now: Instant) {
        self.seen(now);
        let Ok(raw) = <[u8; 8]>::try_from(payload) else { return };
        let sent = self.origin + Duration::from_micros(u64::from_be_bytes(raw));
        let Some(sample) = now.checked_duration_since(sent) else { return };
        if sample > Duration::from_secs(60) {
            return; // not one of ours
        }
        self.rtt = Some(match self.rtt {
            None => sample,
            Some(srtt) => (srtt * 7 + sample) / 8,
        });
    }

    /// The smoothed round-trip time, once a pong has arrived.
    pub fn rtt(&self) -> Option<Duration> {
        self.rtt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_postpones_the_timeout() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, Duration::from_secs(15));
        hb.seen(t0 + Duration::from_secs(10));
        assert!(matches!(hb.tick(t0 + Duration::from_secs(20)), HeartbeatAction::Ping(_)));
        assert_eq!(hb.tick(t0 + Duration::from_secs(26)), HeartbeatAction::TimedOut);
    }

    #[test]
    fn rtt_is_smoothed_and_foreign_pongs_are_ignored() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, Duration::from_secs(15));
        hb.pong(b"not ours", t0);
        assert_eq!(hb.rtt(), None);
        let HeartbeatAction::Ping(p) = hb.tick(t0) else { panic!() };
        hb.pong(&p, t0 + Duration::from_millis(80));
        let HeartbeatAction::Ping(p) = hb.tick(t0 + Duration::from_secs(1)) else { panic!() };
        hb.pong(&p, t0 + Duration::from_secs(1) + Duration::from_millis(160));
        assert_eq!(hb.rtt(), Some(Duration::from_millis(90)));
    }
}
