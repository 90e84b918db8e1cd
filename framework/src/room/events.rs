//! [`RoomEvent`]: what a step of a [`super::RoomCore`] did that its shell
//! must act on — a tick ran (metrics), the seats changed (matchmaking's
//! view of the room), studio code crashed (restart or give up), the room was
//! disposed. The core reports them; the actor only carries them out, instead
//! of diffing the core's state after each step.

use super::context::RoomStats;
use super::core::TickReport;
use std::collections::VecDeque;

/// One thing a room step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// A tick ran.
    TickRan(TickReport),
    /// The number of seated clients or the lock changed.
    SeatsChanged {
        /// Clients seated now (connected or away).
        clients: usize,
        /// Whether joins are refused.
        locked: bool,
    },
    /// Studio code panicked: the room is crashed until restarted.
    Crashed(String),
    /// The room was disposed.
    Disposed,
    /// A snapshot was due and taken (a cluster node saves the room then).
    Snapshotted,
}

/// The core's record of what it has reported, so each change is reported
/// once.
#[derive(Debug, Default)]
pub(super) struct EventLog {
    queue: VecDeque<RoomEvent>,
    seats: (usize, bool),
    crash_reported: bool,
    counted: RoomStats,
}

impl EventLog {
    pub(super) fn push(&mut self, ev: RoomEvent) {
        self.queue.push_back(ev);
    }

    /// The next event, after noting a change of seats or a new crash.
    pub(super) fn poll(&mut self, clients: usize, locked: bool, crashed: Option<&str>) -> Option<RoomEvent> {
        match crashed {
            Some(why) if !self.crash_reported => {
                self.crash_reported = true;
                self.queue.push_back(RoomEvent::Crashed(why.to_string()));
            }
            None => self.crash_reported = false,
            Some(_) => {}
        }
        if (clients, locked) != self.seats {
            self.seats = (clients, locked);
            self.queue.push_back(RoomEvent::SeatsChanged { clients, locked });
        }
        self.queue.pop_front()
    }

    /// The room was rebuilt after a crash: its next crash is news again
    /// (the shell may not have polled in between).
    pub(super) fn restarted(&mut self) {
        self.crash_reported = false;
    }

    /// What the counters grew by since the last call.
    pub(super) fn counts(&mut self, now: RoomStats) -> RoomStats {
        let was = std::mem::replace(&mut self.counted, now);
        RoomStats {
            ticks: now.ticks - was.ticks,
            ticks_skipped: now.ticks_skipped - was.ticks_skipped,
            encodes: now.encodes - was.encodes,
            frames: now.frames - was.frames,
            encode_errors: now.encode_errors - was.encode_errors,
            states_replaced: now.states_replaced - was.states_replaced,
            inputs_dropped: now.inputs_dropped - was.inputs_dropped,
            slow_clients: now.slow_clients - was.slow_clients,
            restarts: now.restarts - was.restarts,
            snapshots: now.snapshots - was.snapshots,
            state_deltas: now.state_deltas - was.state_deltas,
            states_compressed: now.states_compressed - was.states_compressed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_is_news_once_and_again_after_a_restart_even_unpolled_between() {
        let mut log = EventLog::default();
        assert_eq!(log.poll(0, false, Some("boom")), Some(RoomEvent::Crashed("boom".into())));
        assert_eq!(log.poll(0, false, Some("boom")), None);
        // Restarted and crashed again before the shell polled.
        log.restarted();
        assert_eq!(log.poll(0, false, Some("boom again")), Some(RoomEvent::Crashed("boom again".into())));
    }

    #[test]
    fn seats_are_reported_when_they_change_and_counts_as_deltas() {
        let mut log = EventLog::default();
        assert_eq!(log.poll(0, false, None), None);
        assert_eq!(log.poll(2, false, None), Some(RoomEvent::SeatsChanged { clients: 2, locked: false }));
        assert_eq!(log.poll(2, true, None), Some(RoomEvent::SeatsChanged { clients: 2, locked: true }));
        let mut s = RoomStats { ticks: 5, ..Default::default() };
        assert_eq!(log.counts(s).ticks, 5);
        s.ticks = 7;
        assert_eq!(log.counts(s).ticks, 2);
    }
}
