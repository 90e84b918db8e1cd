// A scripted fake server with sessions, for unit tests of resume, rejoin
// and room handles against FakeWebSocket (session.test.js, room.test.js),
// and of state deltas and compression (baselines.test.js, compress.test.js).

import { encode } from '@msgpack/msgpack';

/** @typedef {import('./fake-ws.js').FakeWebSocket} FakeWebSocket */

/** A game event payload, as the room encodes it (msgpack, no schema needed). */
export const event = (/** @type {string} */ text) => encode({ kind: { event: { text, kind: 0, actor: 0, target: 0 } } });

/**
 * @typedef {object} Sess
 * @property {string} id
 * @property {number} seq       the last seq given out
 * @property {Array<{ seq: number, kind: any }>} log  reliable messages not acked
 * @property {Map<string, any>} rooms  room id → Joined fields
 * @property {FakeWebSocket} ws  the attached socket
 * @property {number} roomSeq
 * @property {string} node      the URL of the socket that began it (its node, on a fake cluster)
 */

/**
 * A fake server with sessions, the way docs/protocol.md and envelope.proto
 * describe them: reliable messages (Joined, JoinError, Left, Message) get the
 * session's next seq and are kept until acked; Resume as the first message
 * answers Resumed, then the messages after lastSeq; an unknown token (or
 * `refuse`) answers Error 4002 and the socket keeps its own fresh session.
 * A cluster: `state.resumeRedirect(ws, sess)` may name the URL a `Resume`
 * is sent on to (`Redirect{request: 0, room: ''}`, no seq) instead, for a
 * client whose `Hello` announced `redirect`.
 */
export function fakeSessions() {
  let sessions = 0;
  let tokens = 0;
  /** @type {Map<string, Sess>} */
  const byToken = new Map();
  /** @type {Map<FakeWebSocket, Sess>} */
  const bySocket = new Map();
  /** @type {number[]} */
  const acks = [];
  const state = {
    refuse: false,
    silent: false,
    resync: false,
    /** Welcome leaves out `stateDeltas` (a server from before deltas). */
    noDeltas: false,
    /** Welcome never says `compression`, whatever the URL asks (a server that serves none, or older). */
    noCompression: false,
    rooms: new Set(['room1', 'room2']),
    /** @type {((ws: FakeWebSocket, sess: Sess) => string | null) | null} */
    resumeRedirect: null,
  };
  /** @param {Sess} s */
  const token = (s) => {
    const t = `tok${++tokens}`;
    byToken.set(t, s);
    return t;
  };
  /** Sends a reliable message in session `s` (kept for replay; delivered if its socket is open). */
  const reliable = (/** @type {Sess} */ s, /** @type {any} */ kind) => {
    const seq = ++s.seq;
    s.log.push({ seq, kind });
    s.ws.push({ kind, seq });
    return seq;
  };
  /** A room message to session `s`. */
  const message = (/** @type {Sess} */ s, /** @type {string} */ room, /** @type {string} */ text) =>
    reliable(s, { message: { room, seq: ++s.roomSeq, payload: event(text) } });
  /** @type {import('./fake-ws.js').FakeServer} */
  const server = {
    accept: (p) => p[0],
    welcome(ws) {
      /** @type {Sess} */
      const s = { id: `s${++sessions}`, seq: 0, log: [], rooms: new Map(), ws, roomSeq: 0, node: ws.url };
      bySocket.set(ws, s);
      // `?compress=deflate` (a list, best first) is answered as arena answers it (docs/protocol.md §4.6).
      const query = new URL(ws.url).search.slice(1).split('&');
      const asked = query.some((kv) => kv.startsWith('compress=') && kv.slice(9).split(',').includes('deflate'));
      const compression = asked && !state.noCompression ? { compression: 'deflate' } : {};
      return { session: s.id, resumeToken: token(s), stateDeltas: !state.noDeltas, ...compression };
    },
    onMessage(ws, msg) {
      const [kind] = Object.keys(msg.kind);
      const m = msg.kind[kind];
      const s = /** @type {Sess} */ (bySocket.get(ws));
      if (kind === 'resume') {
        const old = byToken.get(m.token);
        if (state.silent) return;
        const follows = ws.hellos.some((h) => String(h.kind.hello.client).split(';').some((p) => p.trim() === 'redirect'));
        const elsewhere = old && follows && state.resumeRedirect ? state.resumeRedirect(ws, old) : null;
        if (elsewhere) {
          ws.push({ kind: { redirect: { request: 0, room: '', url: elsewhere, reservation: '' } } });
          return;
        }
        if (!old || state.refuse || ws.sent.length !== 1) {
          ws.push({ kind: { error: { code: 4002, reason: 'session expired or unknown; start a new session' } } });
          return;
        }
        if (old.ws !== ws && old.ws.readyState === 1) old.ws.drop(4009, 'session resumed on another connection');
        old.ws = ws;
        bySocket.set(ws, old);
        let replay = old.log.filter((e) => e.seq > m.lastSeq);
        if (state.resync) {
          // the missed messages fell out of the buffer: lost, and the seq jumps
          replay = [];
          old.seq += 10;
        }
        old.log = replay;
        const rooms = [...old.rooms.values()];
        const resync = state.resync;
        ws.push({ kind: { resumed: { session: old.id, resumeToken: token(old), replayed: replay.length, resync, rooms, serverTime: 1 } } });
        for (const e of replay) ws.push({ kind: e.kind, seq: e.seq });
      } else if (kind === 'ack') {
        acks.push(m.seq);
        s.log = s.log.filter((e) => e.seq > m.seq);
      } else if (kind === 'join' || kind === 'joinOrCreate') {
        const room = kind === 'join' ? m.room : 'room1';
        if (!state.rooms.has(room)) {
          reliable(s, { joinError: { request: m.request, code: 1, reason: 'no such room' } });
          return;
        }
        const joined = { request: m.request, room, roomType: 'arena', tickHz: 30, client: 10 + sessions };
        s.rooms.set(room, { ...joined, request: 0 });
        reliable(s, { joined });
      } else if (kind === 'leave') {
        s.rooms.delete(m.room);
        reliable(s, { left: { room: m.room, reason: 1, detail: '' } });
      }
    },
  };
  return { server, state, acks, reliable, message, session: (/** @type {FakeWebSocket} */ ws) => /** @type {Sess} */ (bySocket.get(ws)) };
}
