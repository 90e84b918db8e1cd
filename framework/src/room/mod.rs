//! Rooms: the studio's [`Room`] trait, the [`RoomContext`] its callbacks
//! use, [`RoomCore`] (a room as a plain struct, ticked by hand in tests) and
//! the thin actix shell that schedules its ticks.

mod actor;
mod api;
mod clock;
mod context;
mod core;
#[cfg(test)]
mod presence_tests;
pub(crate) mod shutdown;
#[cfg(test)]
mod tests;

pub(crate) use actor::{DisposeMsg, InputMsg, JoinMsg, LeaveMsg, PresenceMsg};
pub use actor::{RoomActor, RoomMetrics};
pub use api::{Client, ClientId, LeaveReason, Options, Reject, Room, RoomType};
pub use clock::{ClockPoll, TickClock};
pub use context::{RoomContext, RoomStats};
pub use core::{CreateError, JoinRequest, RoomCore, TickReport};
