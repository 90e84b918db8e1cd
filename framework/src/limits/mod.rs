//! Limits a server applies before and after the upgrade: which origins may
//! connect ([`OriginPolicy`], HTTP 403), how many connections one address may
//! hold ([`PerIp`], HTTP 429), and how fast one connection may send
//! ([`RateGate`], `Error{1008}` or close 1008). Plain types, no sockets.

mod ip;
mod origin;
mod rate;

pub use ip::{IpSlot, PerIp};
pub use origin::{OriginError, OriginPolicy};
pub use rate::{RateGate, RateLimits, RatePolicy, Verdict};
