//! [`PerIp`]: how many connections each client address holds, capped.
//!
//! A slot is taken before the upgrade (past the cap: HTTP 429) and given back
//! when the [`IpSlot`] drops, which is when the connection ends.
//!
//! ```
//! use playhouse::limits::PerIp;
//! use std::sync::Arc;
//!
//! let per_ip = Arc::new(PerIp::new(2));
//! let ip = "10.0.0.7".parse().unwrap();
//! let a = per_ip.acquire(ip).unwrap();
//! let _b = per_ip.acquire(ip).unwrap();
//! assert!(per_ip.acquire(ip).is_none(), "a third connection from one address is refused");
//! drop(a);
//! assert!(per_ip.acquire(ip).is_some());
//! ```

use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Connection counts by client address.
#[derive(Debug)]
pub struct PerIp {
    counts: DashMap<IpAddr, usize>,
    max: usize,
}

/// One connection's hold on its address's count (released on drop).
#[derive(Debug)]
pub struct IpSlot {
    owner: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    /// At most `max` connections per address (0: no cap).
    pub fn new(max: usize) -> Self {
        PerIp { counts: DashMap::new(), max }
    }

    /// Takes a slot for `ip`, or `None` if it holds `max` already.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut n = self.counts.entry(ip).or_insert(0);
        if self.max != 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(IpSlot { owner: self.clone(), ip })
    }

    /// Connections `ip` holds.
    pub fn count(&self, ip: IpAddr) -> usize {
        self.counts.get(&ip).map_or(0, |n| *n)
    }

    /// Addresses holding at least one connection.
    pub fn addresses(&self) -> usize {
        self.counts.len()
    }
}

impl IpSlot {
    /// The client address this slot counts (what per-address budgets key on).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        // Removed at zero, so the map is bounded by the open connections.
        self.owner.counts.remove_if_mut(&self.ip, |_, n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_forgets_an_address_with_no_connection() {
        let per_ip = Arc::new(PerIp::new(0));
        let ip: IpAddr = "::1".parse().unwrap();
        let slots: Vec<IpSlot> = (0..1000).map(|_| per_ip.acquire(ip).unwrap()).collect();
        assert_eq!(per_ip.count(ip), 1000, "0 means no cap");
        drop(slots);
        assert_eq!(per_ip.addresses(), 0);
    }
}
