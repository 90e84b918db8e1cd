//! Rooms: the studio's [`Room`] trait, the [`RoomContext`] its callbacks
//! use, [`RoomCore`] (a room as a plain struct, ticked by hand in tests) and
//! the thin actix shell that schedules its ticks.

mod actor;
mod api;
mod baselines;
mod clock;
mod context;
mod core;
#[cfg(test)]
mod delta_tests;
pub mod driver;
mod events;
#[cfg(test)]
mod migration_tests;
#[cfg(test)]
mod monitor_tests;
mod options;
mod port;
pub mod portable;
#[cfg(test)]
mod presence_tests;
#[cfg(test)]
mod recovery_tests;
pub(crate) mod shutdown;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod views_tests;

pub use crate::protocol::ClientId;
pub use crate::session::{LeaveReason, Options};
pub use actor::{RoomActor, RoomDirectory, RoomMetrics};
pub use api::{serde_restore, serde_snapshot, Client, InputOf, MessageOf, Reject, Room, RoomType, StateOf};
pub use clock::{shared_grid, ClockPoll, TickClock};
pub use context::{RoomContext, RoomStats};
pub use core::{CreateError, RoomCore, TickReport, WATCH_FOR};
pub use driver::{DeadlineQueue, DriverStats, TickDriver};
pub use events::RoomEvent;
pub use options::parse_options;
pub(crate) use port::TypedPort;
pub use portable::{PortableRoom, PortableSeat};
