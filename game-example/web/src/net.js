// The connection to the arena server, through the Playhouse JS SDK.

import { Client, HandshakeRefusedError } from 'playhouse-client';
import envelopeProto from '../../../proto/schemas/playhouse/envelope.proto';
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

export function wsUrlFor(loc) {
  const ws = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${ws}//${loc.host}/ws`;
}

/**
 * Connects and joins an arena room. `on` receives:
 *   joined({room, myId, tickHz, token, version}) — also after a reconnect on
 *     a new session (a new seat: a new timeline); not after a resume (the
 *     same seat: the input seq and acks go on)
 *   state({room, tick, acks, payload, recvMs})
 *   message({room, seq, payload})
 *   status({connected, text, info?, final?}) — text: connected, reconnecting…,
 *     resumed, new session, replaced by another tab, disconnected
 *   resumed({session, replayed, resync, rooms})
 * Returns `{ sendInput(seq, input), ping(), close(), get client() }`.
 */
export async function connectArena({ url, tokens, name, on }) {
  const client = await Client.connect(url, {
    tokens,
    protos: [envelopeProto, arenaV1Proto, arenaV2Proto],
    game: { package: 'arena', input: 'Input', output: 'Output' },
    reconnect: { baseMs: 250, capMs: 5000, maxTries: 8 },
  });
  let room = null;
  let version = tokenVersion(client.protocol);

  const join = async () => {
    const options = name ? { name } : {};
    const j = await client.joinOrCreate('arena', options);
    room = j.room;
    version = tokenVersion(client.protocol);
    on.joined({ room: j.room, myId: Number(j.client), tickHz: Number(j.tickHz) || 30, token: client.protocol, version });
  };

  client.on('state', (s) => {
    if (room !== null && s.room !== room) return; // a room we are not in (any more)
    on.state({ ...s, recvMs: performance.now() });
  });
  client.on('message', (m) => {
    if (room !== null && m.room !== room) return;
    on.message(m);
  });
  client.on('reconnecting', (info) => {
    on.status({ connected: false, text: 'reconnecting…', info });
  });
  client.on('resumed', (r) => {
    // The same session and seat: the missed reliable messages (events) have
    // just been replayed; states follow. Nothing to reset.
    on.status({ connected: true, text: 'resumed', info: r });
    if (on.resumed) on.resumed(r);
  });
  client.on('newSession', (info) => {
    // The session was gone (its window passed, or the server restarted):
    // the SDK rejoins next, as a new player.
    on.status({ connected: false, text: 'new session', info });
  });
  let replaced = false;
  client.on('replaced', (info) => {
    replaced = true;
    on.status({ connected: false, text: 'replaced by another tab', info, final: true });
  });
  client.on('reconnected', async (r) => {
    if (r && r.resumed) return; // `resumed` said it all
    // A new session: the SDK rejoined the same room id, or another arena
    // room when it was gone. Our client id (and so our acks) is new.
    on.status({ connected: true, text: 'new session' });
    const again = r && Array.isArray(r.rooms) ? r.rooms.find((x) => x.previous === room) : null;
    if (again) {
      room = again.room;
      version = tokenVersion(r.protocol || client.protocol);
      on.joined({
        room: again.room,
        myId: Number(again.client),
        tickHz: Number(again.tickHz) || 30,
        token: r.protocol || client.protocol,
        version,
      });
      return;
    }
    try {
      await join();
    } catch (e) {
      on.status({ connected: false, text: `rejoin failed: ${e && e.message}` });
    }
  });
  client.on('close', (info) => {
    if (replaced) return;
    on.status({ connected: false, text: 'disconnected', info, final: true });
  });
  client.on('error', (e) => {
    on.status({ connected: undefined, text: `error: ${e && e.message ? e.message : e}` });
  });

  await join();
  on.status({ connected: true, text: 'connected' });

  return {
    get client() {
      return client;
    },
    get room() {
      return room;
    },
    get version() {
      return version;
    },
    sendInput(seq, input) {
      if (room === null) return;
      const payload =
        version >= 2
          ? input
          : { moveX: input.moveX, moveY: input.moveY, fire: input.fire, aimX: input.aimX, aimY: input.aimY };
      client.sendInput(room, seq, payload);
    },
    ping() {
      return client.ping();
    },
    close() {
      if (typeof client.close === 'function') client.close();
    },
  };
}

export { HandshakeRefusedError };
