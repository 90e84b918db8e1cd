//! Whether and where to reconnect: the close-code rule ([`after_close`]),
//! the URL rotation ([`UrlRotation`]) and the attempts of one outage
//! ([`Outage`]), as plain values the reconnecting client consults.

use super::backoff::{Backoff, Jitter};
use std::time::Duration;

/// Close codes after which the client does not reconnect (the same list as
/// the JS SDK's `FATAL_CLOSE_CODES`):
///
/// - 1000 normal close: the server (or this client) ended the session on
///   purpose;
/// - 1002 protocol violation, 1003 unsupported data, 1007 invalid payload,
///   1009 message too big: this client sent something the server cannot
///   take, and would again;
/// - 1008 policy (rate limit, idle timeout, expired token);
/// - 4001 unauthorized, 4003 forbidden, 4005 kicked: retrying cannot fix
///   them.
///
/// 4009 (another connection resumed this session) is not retried either,
/// but reported apart: see [`AfterClose::Replaced`]. Every other code is
/// retried — 1001 (shutdown, after waiting the `Shutdown` hint), 1011 (room
/// lost), 1012/1013 (restart, overloaded), 4002, 4008 (too slow), codes this
/// client does not know — and so is a connection lost with no close frame
/// at all (1006: network gone, server killed).
pub const FATAL_CLOSE_CODES: [u16; 9] = [1000, 1002, 1003, 1007, 1008, 1009, 4001, 4003, 4005];

/// HTTP statuses of a refused upgrade after which the client does not try
/// again: 401 (no valid credential; the token source is asked anew for
/// each attempt, so a refusal means it has none to give) and 403 (this
/// origin is not allowed). 400, 429 and 503 are tried again.
pub const FATAL_HTTP_STATUSES: [u16; 2] = [401, 403];

/// The close code a server sends to a connection whose session another
/// connection resumed.
pub const REPLACED: u16 = 4009;

/// What the client does after its connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterClose {
    /// Reconnect (and resume).
    Reconnect,
    /// Another connection took the session over (4009): stop, and do not
    /// fight it — resuming back would close the other one in turn.
    Replaced,
    /// Stop for good (see [`FATAL_CLOSE_CODES`]).
    Stop,
}

/// The rule: `code` is the close frame's code, `None` when the connection
/// ended without one.
///
/// ```
/// use playhouse_client::reconnect::{after_close, AfterClose};
///
/// assert_eq!(after_close(None), AfterClose::Reconnect); // 1006: network lost
/// assert_eq!(after_close(Some(1001)), AfterClose::Reconnect); // server restarting
/// assert_eq!(after_close(Some(4009)), AfterClose::Replaced);
/// assert_eq!(after_close(Some(1000)), AfterClose::Stop);
/// ```
pub fn after_close(code: Option<u16>) -> AfterClose {
    match code {
        Some(REPLACED) => AfterClose::Replaced,
        Some(c) if FATAL_CLOSE_CODES.contains(&c) => AfterClose::Stop,
        _ => AfterClose::Reconnect,
    }
}

/// Which URL each attempt goes to. Attempt `n` (0 first) of an outage goes
/// to `urls[(start + n) % len]`. `start` is `home`, the URL of the last
/// successful connection (0 before any): the first retry goes back to the
/// server that holds the session — sessions live in one server process, so
/// only it can resume one — and the next ones walk the list, wrapping
/// around, to fail over to a server that is up. After a handover
/// ([`UrlRotation::hand_over`]) `start` is the node the session was handed
/// to instead, until a connection succeeds.
///
/// ```
/// use playhouse_client::reconnect::UrlRotation;
///
/// let mut urls: Vec<String> = ["ws://a/ws", "ws://b/ws", "ws://c/ws"].map(String::from).into();
/// let mut r = UrlRotation::new(urls.len());
/// assert_eq!((0..4).map(|n| r.url_for(n)).collect::<Vec<_>>(), [0, 1, 2, 0]);
/// r.connected(2);
/// assert_eq!((0..4).map(|n| r.url_for(n)).collect::<Vec<_>>(), [2, 0, 1, 2]);
/// // A draining server handed the session to b.
/// r.hand_over(&mut urls, "ws://b/ws");
/// assert_eq!((0..4).map(|n| r.url_for(n)).collect::<Vec<_>>(), [1, 2, 0, 1]);
/// assert_eq!(r.home(), 2, "still the last connection's URL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlRotation {
    len: usize,
    home: usize,
    /// Where outages start instead of `home`, until a connection succeeds.
    handover: Option<usize>,
}

impl UrlRotation {
    /// A rotation over `len` URLs (at least one is assumed).
    pub fn new(len: usize) -> Self {
        UrlRotation { len: len.max(1), home: 0, handover: None }
    }

    /// The index of the URL attempt `n` goes to.
    pub fn url_for(&self, n: u32) -> usize {
        let start = self.handover.unwrap_or(self.home);
        // u32 always fits in usize on the targets tokio supports.
        (start + n as usize % self.len) % self.len
    }

    /// A connection to URL `index` succeeded: outages start there.
    pub fn connected(&mut self, index: usize) {
        self.home = index % self.len;
        self.handover = None;
    }

    /// A draining cluster node handed the session to the node at `url`
    /// (`Shutdown.url`): outages start there, not at `home` — the session
    /// and its rooms are there now, and the old node is going away — and
    /// walk the list on from it, until a connection succeeds
    /// ([`UrlRotation::connected`]). A `url` not in `urls` is added at its
    /// end (the configured URLs keep their order). An empty `url` (a lone
    /// server restarting names none) changes nothing.
    pub fn hand_over(&mut self, urls: &mut Vec<String>, url: &str) {
        if url.is_empty() {
            return;
        }
        let index = self.find_or_add(urls, url);
        self.handover = Some(index % self.len);
    }

    /// The index of `url` in `urls`. A URL that is not in the list (a
    /// redirect's or a handover's node) is added at its end, so the
    /// configured URLs keep their order and indices, and the rotation
    /// counts it from then on.
    pub(super) fn find_or_add(&mut self, urls: &mut Vec<String>, url: &str) -> usize {
        if let Some(i) = urls.iter().position(|u| u == url) {
            return i;
        }
        urls.push(url.to_string());
        self.len = urls.len();
        urls.len() - 1
    }

    /// The URL of the last successful connection.
    pub fn home(&self) -> usize {
        self.home
    }
}

/// One planned attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt of an outage.
    pub number: u32,
    /// Index into the URL list.
    pub url: usize,
    /// How long to wait before dialling.
    pub delay: Duration,
}

/// The attempts of one outage (or of the first connection): how many were
/// made, the wait before the next, and why the last one failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    tried: u32,
    /// Added to the first attempt's wait (the server's `Shutdown` hint).
    hint: Duration,
    /// The first attempt dials at once (the first connection).
    eager: bool,
    cause: String,
    last_error: Option<String>,
}

impl Outage {
    /// A lost connection (`cause` says how). `hint` is the
    /// `reconnect_after_ms` of a `Shutdown` notice received before the loss,
    /// or zero: it is added to the first attempt's jittered wait, so a
    /// restarting server's players come back spread out after it is up.
    pub fn after_loss(cause: impl Into<String>, hint: Duration) -> Self {
        Outage { tried: 0, hint, eager: false, cause: cause.into(), last_error: None }
    }

    /// The first connection: the first attempt dials at once, and at least
    /// one attempt is made even if `max_tries` is 0.
    pub fn first_connection() -> Self {
        Outage { tried: 0, hint: Duration::ZERO, eager: true, cause: "connecting".into(), last_error: None }
    }

    /// The next attempt, or `None` once `backoff.max_tries` are spent.
    pub fn plan(&mut self, backoff: &Backoff, urls: &UrlRotation, jitter: &mut Jitter) -> Option<Attempt> {
        let max = if self.eager { backoff.max_tries.max(1) } else { backoff.max_tries };
        if self.tried >= max {
            return None;
        }
        let n = self.tried;
        let delay = match (n, self.eager) {
            (0, true) => Duration::ZERO,
            (0, false) => self.hint.saturating_add(backoff.delay(0, jitter.draw())),
            _ => backoff.delay(n, jitter.draw()),
        };
        self.tried += 1;
        Some(Attempt { number: n + 1, url: urls.url_for(n), delay })
    }

    /// The attempt just planned failed.
    pub fn failed(&mut self, why: impl Into<String>) {
        self.last_error = Some(why.into());
    }

    /// Attempts planned so far.
    pub fn attempts(&self) -> u32 {
        self.tried
    }

    /// How the connection was lost.
    pub fn cause(&self) -> &str {
        &self.cause
    }

    /// Why the last attempt failed.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn backoff(max_tries: u32) -> Backoff {
        Backoff { base: MS * 100, cap: MS * 1000, max_tries }
    }

    #[test]
    fn fatal_codes_stop_and_the_rest_reconnect() {
        for c in FATAL_CLOSE_CODES {
            assert_eq!(after_close(Some(c)), AfterClose::Stop, "{c}");
        }
        for c in [1001, 1006, 1011, 1012, 1013, 4002, 4004, 4008, 3000, 4999] {
            assert_eq!(after_close(Some(c)), AfterClose::Reconnect, "{c}");
        }
        assert_eq!(after_close(None), AfterClose::Reconnect);
        assert_eq!(after_close(Some(4009)), AfterClose::Replaced);
    }

    #[test]
    fn rotation_starts_at_home_and_walks_the_list() {
        let mut r = UrlRotation::new(3);
        let order = |r: &UrlRotation| (0..7).map(|n| r.url_for(n)).collect::<Vec<_>>();
        assert_eq!(order(&r), [0, 1, 2, 0, 1, 2, 0]);
        r.connected(1);
        assert_eq!(order(&r), [1, 2, 0, 1, 2, 0, 1]);
        assert_eq!(r.home(), 1);
    }

    #[test]
    fn rotation_over_one_url_always_picks_it() {
        let r = UrlRotation::new(1);
        assert!((0..5).chain([u32::MAX]).all(|n| r.url_for(n) == 0));
    }

    #[test]
    fn rotation_survives_huge_attempt_numbers() {
        let mut r = UrlRotation::new(3);
        r.connected(2);
        assert_eq!(r.url_for(u32::MAX), (2 + u32::MAX as usize % 3) % 3);
    }

    fn urls(list: &[&str]) -> Vec<String> {
        list.iter().map(|u| u.to_string()).collect()
    }

    #[test]
    fn a_handover_url_in_the_list_is_where_outages_start_until_a_connection_succeeds() {
        let mut list = urls(&["ws://a", "ws://b", "ws://c"]);
        let mut r = UrlRotation::new(list.len());
        r.connected(0);
        r.hand_over(&mut list, "ws://c");
        let order = |r: &UrlRotation| (0..4).map(|n| r.url_for(n)).collect::<Vec<_>>();
        assert_eq!(order(&r), [2, 0, 1, 2], "the new node first, then on around the list");
        assert_eq!(list.len(), 3, "a known URL is not added again");
        assert_eq!(r.home(), 0, "home stays the last connection's");
        r.connected(1);
        assert_eq!(order(&r), [1, 2, 0, 1], "a connection ends the handover");
    }

    #[test]
    fn a_handover_url_not_in_the_list_joins_it_after_the_configured_ones() {
        let mut list = urls(&["ws://a", "ws://b"]);
        let mut r = UrlRotation::new(list.len());
        r.connected(1);
        r.hand_over(&mut list, "ws://node-3");
        assert_eq!(list, ["ws://a", "ws://b", "ws://node-3"]);
        assert_eq!(
            (0..4).map(|n| r.url_for(n)).collect::<Vec<_>>(),
            [2, 0, 1, 2],
            "then the configured list, in order"
        );
        // The next handover to it finds it there.
        r.connected(2);
        r.hand_over(&mut list, "ws://node-3");
        assert_eq!(list.len(), 3);
    }

    #[test]
    fn an_empty_handover_url_changes_nothing() {
        let mut list = urls(&["ws://a", "ws://b"]);
        let mut r = UrlRotation::new(list.len());
        r.connected(1);
        let before = r;
        r.hand_over(&mut list, "");
        assert_eq!((r, list.len()), (before, 2));
    }

    #[test]
    fn after_a_handover_the_first_attempt_waits_the_hint_and_dials_the_new_node() {
        let mut list = urls(&["ws://a", "ws://b"]);
        let mut rotation = UrlRotation::new(list.len());
        rotation.hand_over(&mut list, "ws://c");
        let b = backoff(3);
        let mut o = Outage::after_loss("closed by the server: 1001", MS * 500);
        let mut j = Jitter::from_fn(|| 0.5);
        let plan: Vec<(usize, Duration)> =
            std::iter::from_fn(|| o.plan(&b, &rotation, &mut j)).map(|a| (a.url, a.delay)).collect();
        assert_eq!(plan, [(2, MS * 550), (0, MS * 100), (1, MS * 200)]);
    }

    #[test]
    fn an_outage_plans_max_tries_attempts_then_gives_up() {
        let (b, urls) = (backoff(4), UrlRotation::new(2));
        let mut o = Outage::after_loss("lost", Duration::ZERO);
        let mut j = Jitter::from_fn(|| 0.5);
        let plan: Vec<Attempt> = std::iter::from_fn(|| o.plan(&b, &urls, &mut j)).collect();
        assert_eq!(
            plan,
            [
                Attempt { number: 1, url: 0, delay: MS * 50 },
                Attempt { number: 2, url: 1, delay: MS * 100 },
                Attempt { number: 3, url: 0, delay: MS * 200 },
                Attempt { number: 4, url: 1, delay: MS * 400 },
            ]
        );
        assert_eq!(o.attempts(), 4);
        assert_eq!(o.plan(&b, &urls, &mut j), None, "stays given up");
    }

    #[test]
    fn the_shutdown_hint_delays_only_the_first_attempt() {
        let (b, urls) = (backoff(3), UrlRotation::new(1));
        let mut o = Outage::after_loss("1001", MS * 1000);
        let mut j = Jitter::from_fn(|| 0.5);
        let delays: Vec<Duration> = std::iter::from_fn(|| o.plan(&b, &urls, &mut j)).map(|a| a.delay).collect();
        assert_eq!(delays, [MS * 1050, MS * 100, MS * 200]);
    }

    #[test]
    fn the_first_connection_dials_at_once_and_always_once() {
        let urls = UrlRotation::new(2);
        let mut j = Jitter::from_fn(|| 0.5);
        let mut o = Outage::first_connection();
        assert_eq!(o.plan(&backoff(0), &urls, &mut j), Some(Attempt { number: 1, url: 0, delay: Duration::ZERO }));
        assert_eq!(o.plan(&backoff(0), &urls, &mut j), None);
        let mut o = Outage::first_connection();
        let b = backoff(3);
        let plan: Vec<Attempt> = std::iter::from_fn(|| o.plan(&b, &urls, &mut j)).collect();
        assert_eq!(
            plan.iter().map(|a| (a.url, a.delay)).collect::<Vec<_>>(),
            [(0, Duration::ZERO), (1, MS * 100), (0, MS * 200)]
        );
    }

    #[test]
    fn zero_max_tries_never_reconnects() {
        let mut o = Outage::after_loss("lost", Duration::ZERO);
        assert_eq!(o.plan(&backoff(0), &UrlRotation::new(1), &mut Jitter::seeded(1)), None);
    }

    #[test]
    fn an_outage_remembers_its_cause_and_last_error() {
        let mut o = Outage::after_loss("connection reset", Duration::ZERO);
        assert_eq!(o.last_error(), None);
        o.failed("refused");
        o.failed("timed out");
        assert_eq!((o.cause(), o.last_error()), ("connection reset", Some("timed out")));
    }
}
