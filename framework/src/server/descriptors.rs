//! How many connections the process can hold: each open connection takes
//! one file descriptor, so the connection cap is sized from the descriptor
//! limit (`RLIMIT_NOFILE`), which the server first raises from its soft to
//! its hard value, as a server that means to hold many sockets should.
//!
//! Why it matters: past the descriptor limit `accept(2)` fails with
//! `EMFILE`, actix-server pauses accepting, and new clients wait in the
//! listen queue until their own time-outs: a silent cliff. Below it, a full
//! server answers HTTP 503 at once, which a client understands.

/// Descriptors kept for everything that is not a client connection: the
/// listeners, each arbiter's and worker's event loop, eventfd and timer,
/// the cluster's Redis connections, log files, `/metrics` scrapes.
pub const RESERVED: u64 = 512;

/// Raises the soft descriptor limit to the hard one (where the platform
/// has one) and returns the limit now in force, if known.
pub fn raise_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `lim` is a valid, writable rlimit for the call.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            // SAFETY: as above; raising the soft limit up to the hard one
            // needs no privilege.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        Some(lim.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

/// The connection cap for a configured `max_connections` (0: size it) and
/// a descriptor limit, and a warning when the configured cap is more than
/// the descriptors allow.
pub fn connection_cap(configured: usize, fd_limit: Option<u64>) -> (usize, Option<String>) {
    let room = fd_limit.map(|l| l.saturating_sub(RESERVED).max(1) as usize);
    match (configured, room) {
        (0, Some(room)) => (room, None),
        // Unknown limit: the historical default.
        (0, None) => (10_000, None),
        (n, Some(room)) if n > room => (
            n,
            Some(format!(
                "max_connections is {n} but the descriptor limit ({}) leaves room for {room} connections: \
                 past that, clients wait in the accept queue until they time out; raise `ulimit -n` \
                 (LimitNOFILE= under systemd) or lower max_connections",
                fd_limit.unwrap_or_default()
            )),
        ),
        (n, _) => (n, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_sized_from_the_descriptor_limit_and_a_configured_one_is_checked_against_it() {
        assert_eq!(connection_cap(0, Some(20_000)), (20_000 - RESERVED as usize, None));
        assert_eq!(connection_cap(0, None), (10_000, None));
        assert_eq!(connection_cap(5_000, Some(20_000)), (5_000, None));
        let (n, warning) = connection_cap(50_000, Some(20_000));
        assert_eq!(n, 50_000, "a configured cap is kept");
        assert!(warning.is_some_and(|w| w.contains("ulimit")));
        assert_eq!(connection_cap(0, Some(100)).0, 1, "a tiny limit still admits one");
    }

    #[test]
    fn raising_the_limit_reports_one() {
        #[cfg(unix)]
        assert!(raise_limit().is_some_and(|l| l > 0));
    }
}
