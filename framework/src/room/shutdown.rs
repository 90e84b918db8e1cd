//! A room's part in a graceful server shutdown: [`ShutdownMsg`].
//!
//! The server sends it only after every connection has written the
//! `Shutdown` notice, so the room's mailbox already holds every input that
//! was read before the notice. The room then runs its next tick at once (the
//! queued inputs through `on_input`, then `on_tick`, so inputs a room only
//! buffers in `on_input` take effect too), calls `Room::on_shutdown`, and is
//! disposed (`on_dispose`, then `Left` to each client). Its clients are
//! closed with 1001 by the server afterwards.

use super::actor::{DisposeMsg, RoomActor};
use super::api::Room;
use super::core::RoomCore;
use actix::{Handler, Message};
use std::time::Instant;

/// The server is shutting down: run the pending inputs, `on_shutdown`, and
/// dispose. Answered once the room is done.
pub(crate) struct ShutdownMsg;
impl Message for ShutdownMsg {
    type Result = ();
}

impl<R: Room> RoomCore<R> {
    /// Server shutdown, before disposal: runs the next tick now (the inputs
    /// queued for it, then `on_tick`), then `on_shutdown`. A crashed room
    /// runs neither; a sleeping (empty) room runs no tick.
    pub fn shutdown(&mut self, now: Instant) {
        // The next tick is early by less than a period; a tick that is late
        // runs as the clock would run it anyway.
        self.poll(now.max(self.next_due()));
        self.call(|room, ctx| room.on_shutdown(ctx));
    }
}

impl<R: Room> Handler<ShutdownMsg> for RoomActor<R> {
    type Result = ();

    fn handle(&mut self, _: ShutdownMsg, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        self.core.shutdown(Instant::now());
        <Self as Handler<DisposeMsg>>::handle(self, DisposeMsg, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ClientId, Codec, Schema};
    #[allow(unused_imports)]
    use crate::protocol::{ConnId, SessionId};
    use crate::room::{Options, Reject, RoomContext, RoomType};
    use crate::session::{JoinRequest, Outbox, OutboxLimits};
    use playhouse_testkit::probe::v2;
    use std::sync::Arc;
    use std::time::Duration;

    /// Records what the room was told, in order.
    #[derive(Default)]
    struct Journal(Vec<String>);

    impl Room for Journal {
        type Wire = (v2::Input, v2::Output, v2::Output);
        type Options = Options;

        fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
            Ok(Journal::default())
        }
        fn on_input(&mut self, _: &mut RoomContext<Self>, client: ClientId, seq: u32, input: v2::Input) {
            self.0.push(format!("input {client} {seq} {}", input.move_x));
        }
        fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
            self.0.push(format!("tick {}", ctx.tick()));
        }
        fn on_shutdown(&mut self, ctx: &mut RoomContext<Self>) {
            self.0.push(format!("shutdown with {} clients", ctx.client_count()));
        }
    }

    #[test]
    fn shutdown_runs_the_queued_inputs_and_a_tick_before_on_shutdown() {
        let t0 = Instant::now();
        let schema = Schema::<(v2::Input, v2::Output, v2::Output)>::new().current(2).shared().unwrap();
        let spec = RoomType::new("journal", 10);
        let mut core = RoomCore::<Journal>::create("r".into(), &spec, schema, &Options::new(), t0).unwrap();
        let outbox = Arc::new(Outbox::new(SessionId(1), OutboxLimits::default()));
        let req = JoinRequest {
            request: 1,
            session: "s".into(),
            user: None,
            version: 2,
            codec: Codec::Proto,
            outbox,
            options: Options::new(),
        };
        let client = core.join(req, t0).unwrap();
        core.poll(t0); // tick 0
        core.input(client, 1, v2::Input { move_x: 5, ..Default::default() });
        core.input(client, 2, v2::Input { move_x: -5, ..Default::default() });
        // Tick 1 is due at t0 + 100 ms; the shutdown comes 10 ms in.
        core.shutdown(t0 + Duration::from_millis(10));
        let journal = &core.room().unwrap().0;
        assert_eq!(journal, &["tick 0", "input 1 1 5", "input 1 2 -5", "tick 1", "shutdown with 1 clients"]);
        assert_eq!(core.stats().ticks_skipped, 0);
    }
}
