//! Room types as matchmaking holds them: a [`RoomFactory`] per registered
//! type makes its rooms — a new one through `on_create`, or one rebuilt from
//! another node's portable form — and starts each on its arbiter under a
//! `Supervisor`. The only place that knows the studio's `Room` type below
//! the registry's type-erased map.

use super::Registry;
use crate::protocol::{RoomId, Schema};
use crate::room::TickDriver;
use crate::room::{
    CreateError, PortableRoom, PortableSeat, Room, RoomActor, RoomCore, RoomDirectory, RoomType, TypedPort,
};
use crate::session::{Options, Outbox, RoomHandle};
use actix::ArbiterHandle;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Where a room runs: an arbiter (a thread with its own event loop) and the
/// tick driver that wakes that arbiter's rooms.
#[derive(Clone)]
pub(super) struct Place {
    pub(super) arbiter: ArbiterHandle,
    pub(super) driver: Arc<TickDriver>,
}

/// Makes the rooms of one registered type.
pub(super) trait RoomFactory: Send + Sync {
    fn spec(&self) -> &RoomType;
    fn authorize_join(&self, user: Option<&str>, room: Option<&str>, options: &Options) -> Result<(), String>;
    fn versions(&self) -> Vec<u32>;
    fn spawn(
        &self,
        reg: &Arc<Registry>,
        id: RoomId,
        options: &Options,
        place: &Place,
    ) -> Result<Arc<RoomHandle>, CreateError>;
    /// Rebuilds a room another node ran (see `takeover`).
    fn restore(
        &self,
        reg: &Arc<Registry>,
        id: RoomId,
        portable: &PortableRoom,
        seats: Vec<(PortableSeat, Arc<Outbox>)>,
        place: &Place,
    ) -> Result<Arc<RoomHandle>, CreateError>;
}

pub(super) struct Factory<R: Room> {
    pub(super) spec: RoomType,
    pub(super) schema: Arc<Schema<R::Wire>>,
}

impl<R: Room> RoomFactory for Factory<R> {
    fn spec(&self) -> &RoomType {
        &self.spec
    }

    fn versions(&self) -> Vec<u32> {
        self.schema.versions()
    }

    fn authorize_join(&self, user: Option<&str>, room: Option<&str>, options: &Options) -> Result<(), String> {
        R::authorize_join(user, room, options).map_err(|r| r.reason)
    }

    fn spawn(
        &self,
        reg: &Arc<Registry>,
        id: RoomId,
        options: &Options,
        place: &Place,
    ) -> Result<Arc<RoomHandle>, CreateError> {
        // on_create runs here, on the caller's thread, so its verdict can be
        // answered at once; the finished core then moves to its arbiter.
        let core = RoomCore::<R>::create(id.clone(), &self.spec, self.schema.clone(), options, Instant::now())?;
        Ok(self.start(reg, id, core, place))
    }

    fn restore(
        &self,
        reg: &Arc<Registry>,
        id: RoomId,
        portable: &PortableRoom,
        seats: Vec<(PortableSeat, Arc<Outbox>)>,
        place: &Place,
    ) -> Result<Arc<RoomHandle>, CreateError> {
        let schema = self.schema.clone();
        let core = RoomCore::<R>::restore_portable(id.clone(), &self.spec, schema, portable, seats, Instant::now())?;
        Ok(self.start(reg, id, core, place))
    }
}

impl<R: Room> Factory<R> {
    /// Starts `core`'s actor on `place`'s arbiter, supervised, woken by its
    /// tick driver.
    fn start(&self, reg: &Arc<Registry>, id: RoomId, mut core: RoomCore<R>, place: &Place) -> Arc<RoomHandle> {
        core.set_channels(reg.channels.clone());
        let handle = Arc::new(RoomHandle::new(
            id,
            self.spec.name.as_str().into(),
            self.spec.tick_hz,
            self.spec.max_clients,
            self.spec.inbox_capacity,
            self.spec.reconnect_window,
        ));
        let metrics = reg.metrics.room_type(&self.spec.name);
        let (h, weak) = (handle.clone(), Arc::downgrade(reg) as Weak<dyn RoomDirectory>);
        // Supervised: a room whose code panics is restarted in place (see
        // RoomActor's `Supervised` impl); its clients stay connected.
        let driver = place.driver.clone();
        let addr = actix::Supervisor::start_in_arbiter(&place.arbiter, move |_| {
            RoomActor::new(core, h, weak, metrics, driver.clone())
        });
        handle.set_port(Box::new(TypedPort::<R> { addr, schema: self.schema.clone() }));
        handle
    }
}
