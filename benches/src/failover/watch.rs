//! Watching the cluster's directory through a survivor's `/rooms` (every
//! room of the cluster with its node, read from Redis on each request): for
//! each room of the lost node, the first poll that no longer lists it (its
//! lease ran out, or a draining node released it) and the first that lists
//! it under another node (a survivor claimed it). Each sighting is stamped
//! with the instant its request was sent, so it is exact to within one
//! poll interval.

use crate::loadgen::prom;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What the watch saw of one room.
#[derive(Debug, Default, Clone)]
pub struct Sighting {
    /// The first poll that did not list it.
    pub gone: Option<Instant>,
    /// The first poll that listed it under another node, and that node.
    pub claimed: Option<(Instant, String)>,
}

/// The rooms `/rooms` on `addr` lists, with their node (`None`: no answer).
pub async fn listed(addr: SocketAddr) -> Option<HashMap<String, String>> {
    let body = prom::http_get(addr, "/rooms", Duration::from_secs(2)).await.ok()?;
    let rooms: Vec<serde_json::Value> = serde_json::from_str(&body).ok()?;
    Some(
        rooms
            .iter()
            .map(|r| {
                let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (field("id"), field("node"))
            })
            .collect(),
    )
}

/// Polls `/rooms` on `survivor` every `every` from now until each of `rooms`
/// is listed under a node other than `lost`, or `within` has passed.
pub async fn claims(
    survivor: SocketAddr,
    rooms: &[String],
    lost: &str,
    every: Duration,
    within: Duration,
) -> HashMap<String, Sighting> {
    let mut seen: HashMap<String, Sighting> = rooms.iter().map(|r| (r.clone(), Sighting::default())).collect();
    let t0 = Instant::now();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while t0.elapsed() < within && seen.values().any(|s| s.claimed.is_none()) {
        ticker.tick().await;
        let sent = Instant::now();
        let Some(now) = listed(survivor).await else { continue };
        for (room, s) in seen.iter_mut().filter(|(_, s)| s.claimed.is_none()) {
            match now.get(room) {
                None => {
                    s.gone.get_or_insert(sent);
                }
                Some(node) if node != lost => s.claimed = Some((sent, node.clone())),
                Some(_) => {}
            }
        }
    }
    seen
}
