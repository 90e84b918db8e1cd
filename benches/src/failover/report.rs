//! The failover bench's figures: the samples its rounds collect, their
//! quantiles ([`Spread`], milliseconds) and how they are shown (a table,
//! and one JSON line with the keys in reading order).

use super::Spread;
use crate::loadgen::report::Machine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What the kill -9 rounds measured, per player.
#[derive(Default, Debug)]
pub struct KillSamples {
    /// The kill → the first state from the new owner.
    pub first_state: Vec<Duration>,
    /// The kill → the claim of the player's room.
    pub claim: Vec<Duration>,
    /// The kill → the room gone from `/rooms` (its lease ran out).
    pub lease_out: Vec<Duration>,
    /// The room gone → claimed (a survivor's claim scan).
    pub lease_out_to_claim: Vec<Duration>,
    /// The claim → the first state from the new owner.
    pub claim_to_first_state: Vec<Duration>,
    /// `Resumed` → the first state.
    pub resumed_to_first_state: Vec<Duration>,
    /// The claim → `Resumed`, for players whose resuming attempt was
    /// dialled before the claim (it waited in a survivor's lookup of the
    /// session).
    pub claim_to_resumed_looked_up: Vec<Duration>,
    /// The claim → `Resumed`, for players whose resuming attempt was
    /// dialled after it (it waited out a backoff).
    pub claim_to_resumed_dialled: Vec<Duration>,
    /// Attempts dialled after the claim that failed.
    pub failed_after_claim: usize,
    /// Of those, the ones that went to the lost node's URL.
    pub failed_after_claim_to_lost: usize,
    /// Reconnect attempts per player.
    pub attempts: Vec<usize>,
    /// Rooms each survivor claimed, over every round.
    pub successors: BTreeMap<String, usize>,
}

/// What the drain rounds measured.
#[derive(Default, Debug)]
pub struct DrainSamples {
    /// Per player: the last state before the move → the first after it.
    pub pause: Vec<Duration>,
    /// Per player: the last state → the `Shutdown` notice.
    pub last_state_to_notice: Vec<Duration>,
    /// Per player: the notice → `Resumed` on the successor.
    pub notice_to_resumed: Vec<Duration>,
    /// Per player: the backoff its first attempt waited.
    pub first_delay: Vec<Duration>,
    /// Per player: `Resumed` → the first state.
    pub resumed_to_first_state: Vec<Duration>,
    /// Per room: SIGTERM → gone from `/rooms` (released).
    pub room_released: Vec<Duration>,
    /// Per room: SIGTERM → listed under a successor.
    pub room_claimed: Vec<Duration>,
    /// Per player: SIGTERM → the `Shutdown` notice.
    pub notice: Vec<Duration>,
    /// Per round: SIGTERM → the drained node exited.
    pub exit: Vec<Duration>,
    /// Per round: its exit code (`None`: ended by a signal).
    pub exit_codes: Vec<Option<i32>>,
    /// Rooms each successor took, over every round.
    pub successors: BTreeMap<String, usize>,
}

/// The run's parameters.
#[derive(Serialize, Debug)]
pub struct Params {
    /// Nodes per cluster.
    pub nodes: usize,
    /// Rooms on node `a`.
    pub rooms: usize,
    /// Players per room.
    pub players_per_room: usize,
    /// The room lease.
    pub lease_ms: u64,
    /// Rounds (each: one cluster killed, one drained).
    pub rounds: usize,
    /// Play before each fault.
    pub play_ms: u64,
    /// `/rooms` poll interval.
    pub poll_ms: u64,
    /// The players' first backoff ceiling.
    pub backoff_base_ms: u64,
    /// The players' largest backoff ceiling.
    pub backoff_cap_ms: u64,
}

/// The kill -9 figures (see [`KillSamples`]).
#[derive(Serialize, Debug)]
pub struct KillFigures {
    /// The kill → the first state from the new owner.
    pub first_state: Spread,
    /// The kill → the claim.
    pub claim: Spread,
    /// The kill → the lease ran out.
    pub lease_out: Spread,
    /// The lease ran out → the claim.
    pub lease_out_to_claim: Spread,
    /// The claim → the first state.
    pub claim_to_first_state: Spread,
    /// The claim → `Resumed`, dialled before the claim.
    pub claim_to_resumed_looked_up: Spread,
    /// The claim → `Resumed`, dialled after the claim.
    pub claim_to_resumed_dialled: Spread,
    /// `Resumed` → the first state.
    pub resumed_to_first_state: Spread,
    /// Attempts dialled after the claim that failed.
    pub failed_after_claim: usize,
    /// Of those, to the lost node's URL.
    pub failed_after_claim_to_lost: usize,
    /// Median reconnect attempts per player.
    pub attempts_p50: usize,
    /// Most reconnect attempts of a player.
    pub attempts_max: usize,
    /// Rooms per survivor that claimed them.
    pub successors: BTreeMap<String, usize>,
}

/// The drain figures (see [`DrainSamples`]).
#[derive(Serialize, Debug)]
pub struct DrainFigures {
    /// The pause between states.
    pub pause: Spread,
    /// The last state → the notice.
    pub last_state_to_notice: Spread,
    /// The notice → `Resumed`.
    pub notice_to_resumed: Spread,
    /// The first attempt's backoff.
    pub first_attempt_delay: Spread,
    /// `Resumed` → the first state.
    pub resumed_to_first_state: Spread,
    /// SIGTERM → released.
    pub room_released: Spread,
    /// SIGTERM → claimed.
    pub room_claimed: Spread,
    /// SIGTERM → the notice.
    pub notice: Spread,
    /// SIGTERM → exit.
    pub exit: Spread,
    /// Exit codes, per round.
    pub exit_codes: Vec<Option<i32>>,
    /// Rooms per successor.
    pub successors: BTreeMap<String, usize>,
}

/// The whole report.
#[derive(Serialize, Debug)]
pub struct Report {
    /// Always "failover".
    pub bench: &'static str,
    /// The parameters.
    pub params: Params,
    /// The machine (its CPUs, not the one the bench was pinned to).
    pub machine: Machine,
    /// `uname -r`.
    pub kernel: String,
    /// Where the nodes and the bench ran.
    pub pinning: String,
    /// kill -9.
    pub kill: KillFigures,
    /// Drain.
    pub drain: DrainFigures,
    /// What went wrong (empty on a clean run).
    pub errors: Vec<String>,
}

impl Report {
    /// The figures of the samples.
    pub fn new(
        params: Params,
        machine: Machine,
        pinning: String,
        kill: &KillSamples,
        drain: &DrainSamples,
        errors: Vec<String>,
    ) -> Report {
        let mut attempts = kill.attempts.clone();
        attempts.sort();
        Report {
            bench: "failover",
            params,
            machine,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string(),
            pinning,
            kill: KillFigures {
                first_state: Spread::of(&kill.first_state),
                claim: Spread::of(&kill.claim),
                lease_out: Spread::of(&kill.lease_out),
                lease_out_to_claim: Spread::of(&kill.lease_out_to_claim),
                claim_to_first_state: Spread::of(&kill.claim_to_first_state),
                claim_to_resumed_looked_up: Spread::of(&kill.claim_to_resumed_looked_up),
                claim_to_resumed_dialled: Spread::of(&kill.claim_to_resumed_dialled),
                resumed_to_first_state: Spread::of(&kill.resumed_to_first_state),
                failed_after_claim: kill.failed_after_claim,
                failed_after_claim_to_lost: kill.failed_after_claim_to_lost,
                attempts_p50: attempts.get(attempts.len() / 2).copied().unwrap_or_default(),
                attempts_max: attempts.last().copied().unwrap_or_default(),
                successors: kill.successors.clone(),
            },
            drain: DrainFigures {
                pause: Spread::of(&drain.pause),
                last_state_to_notice: Spread::of(&drain.last_state_to_notice),
                notice_to_resumed: Spread::of(&drain.notice_to_resumed),
                first_attempt_delay: Spread::of(&drain.first_delay),
                resumed_to_first_state: Spread::of(&drain.resumed_to_first_state),
                room_released: Spread::of(&drain.room_released),
                room_claimed: Spread::of(&drain.room_claimed),
                notice: Spread::of(&drain.notice),
                exit: Spread::of(&drain.exit),
                exit_codes: drain.exit_codes.clone(),
                successors: drain.successors.clone(),
            },
            errors,
        }
    }

    /// Prints the table on stdout.
    pub fn print_table(&self) {
        let p = &self.params;
        println!(
            "failover: {} nodes, {} rooms x {} players on node a, lease {} ms, {} rounds, backoff {}..{} ms, /rooms every {} ms",
            p.nodes, p.rooms, p.players_per_room, p.lease_ms, p.rounds, p.backoff_base_ms, p.backoff_cap_ms, p.poll_ms
        );
        println!("pinning: {}", self.pinning);
        println!();
        header("kill -9 of node a (ms)");
        let k = &self.kill;
        row("kill -> first state from the new owner (per player)", &k.first_state);
        row("  kill -> claim (room listed under a survivor)", &k.claim);
        row("    kill -> lease ran out (room gone from /rooms)", &k.lease_out);
        row("    lease ran out -> claim", &k.lease_out_to_claim);
        row("  claim -> first state", &k.claim_to_first_state);
        row("    claim -> Resumed, dialled before the claim (lookup)", &k.claim_to_resumed_looked_up);
        row("    claim -> Resumed, dialled after the claim (backoff)", &k.claim_to_resumed_dialled);
        row("    Resumed -> first state", &k.resumed_to_first_state);
        println!(
            "  attempts per player p50 {} max {}; dialled after the claim and failed: {} ({} to the lost node's URL)",
            k.attempts_p50, k.attempts_max, k.failed_after_claim, k.failed_after_claim_to_lost
        );
        println!("  rooms per survivor that claimed them: {}", per_node(&k.successors));
        println!();
        header("drain (SIGTERM) of node a (ms)");
        let d = &self.drain;
        row("pause: last state before -> first after the move (per player)", &d.pause);
        row("  last state -> Shutdown notice", &d.last_state_to_notice);
        row("  Shutdown notice -> Resumed", &d.notice_to_resumed);
        row("    of which the first attempt's backoff", &d.first_attempt_delay);
        row("  Resumed -> first state", &d.resumed_to_first_state);
        row("SIGTERM -> room released (gone from /rooms, per room)", &d.room_released);
        row("SIGTERM -> room claimed by a successor (per room)", &d.room_claimed);
        row("SIGTERM -> Shutdown notice naming the successor (per player)", &d.notice);
        row("SIGTERM -> drained node exited (per round)", &d.exit);
        let codes: Vec<String> = d.exit_codes.iter().map(|c| c.map_or("signal".into(), |c| c.to_string())).collect();
        println!("  exit codes: {}; rooms per successor: {}", codes.join(" "), per_node(&d.successors));
        if !self.errors.is_empty() {
            println!();
            println!("{} errors:", self.errors.len());
            for e in self.errors.iter().take(20) {
                println!("  {e}");
            }
        }
    }
}

fn per_node(rooms: &BTreeMap<String, usize>) -> String {
    rooms.iter().map(|(n, k)| format!("{n}: {k}")).collect::<Vec<_>>().join(", ")
}

fn header(title: &str) {
    println!("  {title:<62} {:>5} {:>7} {:>7} {:>7}", "n", "p50", "p99", "max");
}

fn row(label: &str, s: &Spread) {
    println!("  {label:<62} {:>5} {:>7.0} {:>7.0} {:>7.0}", s.n, s.p50, s.p99, s.max);
}
