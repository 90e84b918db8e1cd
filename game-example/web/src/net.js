// The connection to the arena server, through the Playhouse JS SDK: the
// tokens this client speaks, the join, and what a reconnect means for the
// page. The SDK's Room handle numbers the inputs and tracks their acks.

import { Client, HandshakeRefusedError } from 'playhouse-client';
import arenaV1Proto from '../../schemas/arena/v1.proto';
import arenaV2Proto from '../../schemas/arena/v2.proto';
import { tokenVersion } from './model.js';

/** Every token this client speaks, best first. */
export const ALL_TOKENS = ['arena.v2.proto', 'arena.v2.msgpack', 'arena.v1.proto', 'arena.v1.msgpack'];

/** `?token=arena.v1.msgpack` forces one token (repeatable or comma-separated); default: all. */
export function tokensFromQuery(params) {
  const asked = params
    .getAll('token')
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  return asked.length ? asked : ALL_TOKENS.slice();
}

// Reconnect backoff. One server: the SDK's usual growth to 5 s between
// tries. A URL list (the nodes of a cluster): a node killed outright looks
// alive to its peers until its lease runs out, so until then a try at
// another node is sent back to the dead one and fails; the sessions are
// resumable on a survivor about a lease after the kill. Gaps of at most 1 s
// resume the player soon after that (not up to 5 s later), and 40 tries
// (about 20 s in all) outlast a lease of several seconds.
const RECONNECT_ONE = { baseMs: 250, capMs: 5000, maxTries: 8 };
const RECONNECT_LIST = { baseMs: 250, capMs: 1000, maxTries: 40 };

/**
 * Connects to the first of `urls` that answers (the SDK fails over across
 * them, in order, on reconnects too) and joins an arena room. `on` receives:
 *   joined({room, myId, tickHz, token, version, handle}) — also when the SDK
 *     joined again after a reconnect on a new session (a new seat: a new
 *     timeline); not after a resume (the same seat: its inputs and acks go
 *     on). `handle` is the SDK's Room: its `unacked` inputs are what
 *     prediction replays, `ackedSeq` the last one the server processed
 *   state({room, tick, acks, payload, ackedSeq, acked, recvMs}) — the Room
 *     handle's state: `acked` are the inputs it acknowledged
 *   message({room, seq, payload})
 *   status({connected, text, url, session, info?, final?}) — text: connected,
 *     reconnecting…, resuming on HOST… (a cluster node sent the resume on to
 *     the session's node), resumed, new session, replaced by another tab,
 *     disconnected, moved to the room's server (a cluster node redirected the
 *     join; the SDK follows); `url`: the server connected to (while
 *     reconnecting: the last one); `session`: the SDK's session id
 *   resumed({session, replayed, resync, rooms})
 * Returns `{ sendInput(input) → seq | null, ping(), close(), get room(), get client() }`.
 */
export async function connectArena({ urls, tokens, name, on }) {
  const client = await Client.connect(urls, {
    tokens,
    protos: [arenaV1Proto, arenaV2Proto], // the envelope ships with the SDK
    // arena's schema (game-example/src/schema.rs) wraps both its states and its
    // events in the version's Output oneof on the wire: state and message
    // payloads both decode as Output (game.state and game.message default to it).
    game: { package: 'arena', input: 'Input', output: 'Output' },
    reconnect: urls.length > 1 ? RECONNECT_LIST : RECONNECT_ONE,
    // Large states come compressed (raw DEFLATE, docs/protocol.md §4.6); the
    // SDK inflates them before they get here, so the game sees plain states.
    compression: true,
  });
  let room = null;
  let version = tokenVersion(client.protocol);
  // Every status names the server the connection is on (or was on, while
  // reconnecting; with a URL list it changes on a failover or a redirect)
  // and the session: a resume keeps it, a new session or a join's move not.
  const status = (st) => on.status({ ...st, url: client.url, session: client.session });

  const seated = () => {
    version = tokenVersion(client.protocol);
    on.joined({ room: room.id, myId: room.clientId, tickHz: Number(room.tickHz) || 30, token: client.protocol, version, handle: room });
  };
  const join = async () => {
    room = await client.joinOrCreate('arena', name ? { name } : {});
    room.onState((s) => on.state({ ...s, recvMs: performance.now() }));
    room.onMessage((m) => on.message(m));
    // A new session: the SDK joined again as a new player, perhaps in
    // another arena room when ours was gone. The handle follows that seat.
    room.onRejoined(seated);
    seated();
  };

  client.on('redirected', (info) => {
    const host = new URL(info.to).host;
    if (info.kind === 'resume') {
      // A reconnect reached a cluster node that does not hold the session:
      // the SDK moved to the node that does and resumes there (`resumed`
      // follows, or the attempt fails and `reconnecting…` again).
      status({ connected: false, text: `resuming on ${host}…`, info });
      return;
    }
    // A cluster: the arena room found lives on another node. The SDK moved
    // the connection there (a new session) and the join goes on there.
    status({ connected: true, text: `moved to the room's server (${host})`, info });
  });
  client.on('reconnecting', (info) => {
    status({ connected: false, text: 'reconnecting…', info });
  });
  client.on('resumed', (r) => {
    // The same session and seat: the missed reliable messages (events) have
    // just been replayed; states follow. Nothing to reset.
    status({ connected: true, text: 'resumed', info: r });
    if (on.resumed) on.resumed(r);
  });
  client.on('newSession', (info) => {
    // The session was gone (its window passed, or the server restarted):
    // the SDK rejoins next, as a new player.
    status({ connected: false, text: 'new session', info });
  });
  let replaced = false;
  client.on('replaced', (info) => {
    replaced = true;
    status({ connected: false, text: 'replaced by another tab', info, final: true });
  });
  client.on('reconnected', async (r) => {
    if (r.resumed) return; // `resumed` said it all
    status({ connected: true, text: 'new session' });
    if (room && room.active) return; // rejoined: `seated` ran already
    try {
      await join(); // the rejoin failed (the SDK said why): a room of our own again
    } catch (e) {
      status({ connected: false, text: `rejoin failed: ${e && e.message}` });
    }
  });
  client.on('close', (info) => {
    if (replaced) return;
    status({ connected: false, text: 'disconnected', info, final: true });
  });
  client.on('error', (e) => {
    status({ connected: undefined, text: `error: ${e && e.message ? e.message : e}` });
  });

  await join();
  status({ connected: true, text: 'connected' });

  return {
    get client() {
      return client;
    },
    get room() {
      return room;
    },
    sendInput(input) {
      if (room === null) return null;
      const payload =
        version >= 2
          ? input
          : { moveX: input.moveX, moveY: input.moveY, fire: input.fire, aimX: input.aimX, aimY: input.aimY };
      return room.send(payload);
    },
    ping() {
      return client.ping();
    },
    close() {
      client.close();
    },
  };
}

export { HandshakeRefusedError };
