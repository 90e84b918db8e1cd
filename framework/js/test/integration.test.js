// Against the real arena server (ARENA_BIN, default target/debug/arena).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Client, ConnectError, HandshakeRefusedError, JoinError, Schema } from '../src/index.js';
import { startArena, options, waitFor, shapeOf, sleep, ALL_PROTOS, ALL_TOKENS, PROTOS } from './helpers.js';

/** @type {import('./helpers.js').Arena} */
let arena;
/** @type {Client[]} */
const clients = [];

before(async () => {
  arena = await startArena();
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await arena?.kill();
});

/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
async function connect(extra) {
  const c = await Client.connect(arena.url, options(extra));
  clients.push(c);
  return c;
}

/** The field names of a message type, as the SDK gives them (camelCase, oneofs as one key). */
function fieldsOf(/** @type {string} */ name) {
  const t = new Schema(ALL_PROTOS).type(name);
  assert.ok(t);
  const names = t.fieldsArray.filter((f) => !f.partOf).map((f) => f.name);
  return [...names, ...t.oneofsArray.map((o) => o.name)].sort();
}

/** The next state of `room` whose acks satisfy `pick`. */
function stateWhere(/** @type {Client} */ c, /** @type {string} */ room, pick = (/** @type {any} */ _s) => true, ms = 5000) {
  return waitFor(c, 'state', (s) => s.room === room && pick(s), ms);
}

test('negotiation: each token alone is chosen, and the client reports it', { timeout: 20_000 }, async () => {
  /** @type {Set<string>} */
  const sessions = new Set();
  for (const token of ALL_TOKENS) {
    const c = await connect({ tokens: [token] });
    const [, v, codec] = token.split('.');
    assert.equal(c.protocol, token);
    assert.equal(c.version, Number(v.slice(1)));
    assert.equal(c.codec, codec);
    // the session id is opaque to clients (today `<hex id>-<8 hex>`); one per connection
    assert.ok(typeof c.session === 'string' && c.session.length > 0 && !sessions.has(c.session), c.session);
    sessions.add(c.session);
    assert.ok(c.resumeToken.length > 0, 'Welcome carries a resume token');
    assert.equal(c.welcome?.protocol, token);
    await c.close();
  }
});

test('negotiation: the server rule (highest shared version, then its codec preference) decides', { timeout: 20_000 }, async () => {
  /** @type {Array<[string[], string]>} */
  const cases = [
    [ALL_TOKENS, 'arena.v2.proto'],
    [['arena.v1.msgpack', 'arena.v1.proto', 'arena.v2.msgpack', 'arena.v2.proto'], 'arena.v2.proto'],
    [['arena.v2.msgpack', 'arena.v2.proto'], 'arena.v2.proto'],
    [['arena.v1.proto', 'arena.v2.msgpack'], 'arena.v2.msgpack'],
    [['arena.v3.msgpack', 'arena.v1.msgpack'], 'arena.v1.msgpack'],
  ];
  for (const [tokens, want] of cases) {
    const c = await connect({ tokens });
    assert.equal(c.protocol, want, `offering ${tokens.join(', ')}`);
    await c.close();
  }
});

test('join-or-create, states in both codecs: same room, same tick, identical decoded payloads', { timeout: 20_000 }, async () => {
  const p = await connect({ tokens: ['arena.v2.proto'] });
  const m = await connect({ tokens: ['arena.v2.msgpack'] });
  const jp = await p.joinOrCreate('arena', { name: 'pp' });
  assert.deepEqual(Object.keys(jp).sort(), ['client', 'request', 'room', 'roomType', 'tickHz']);
  assert.equal(jp.roomType, 'arena');
  assert.ok(jp.tickHz > 0 && jp.client >= 1 && typeof jp.room === 'string' && jp.room.length === 10);
  const jm = await m.join(jp.room, { name: 'mm' });
  assert.equal(jm.room, jp.room);
  assert.notEqual(jm.client, jp.client);

  /** @type {Map<number, any>} */
  const fromP = new Map();
  /** @type {Map<number, any>} */
  const fromM = new Map();
  p.on('state', (s) => fromP.set(s.tick, s));
  m.on('state', (s) => fromM.set(s.tick, s));
  const twoPlayers = (/** @type {any} */ s) => {
    const names = (s.payload.kind?.state?.players ?? []).map((/** @type {any} */ pl) => pl.name);
    return names.includes('pp') && names.includes('mm');
  };
  let common;
  for (let i = 0; i < 100 && !common; i++) {
    await sleep(30);
    common = [...fromP.keys()].find((t) => fromM.has(t) && twoPlayers(fromP.get(t)));
  }
  assert.ok(common !== undefined, 'no tick seen by both clients with both players');
  const sp = fromP.get(common);
  const sm = fromM.get(common);
  // envelope: same keys and types; acks are per (version, codec) group
  assert.deepEqual(shapeOf(sp), shapeOf(sm));
  assert.deepEqual(Object.keys(sp).sort(), ['acks', 'payload', 'room', 'tick']);
  assert.ok(sp.acks.some((/** @type {any} */ a) => a.client === jp.client));
  assert.ok(!sp.acks.some((/** @type {any} */ a) => a.client === jm.client), 'acks list only the own group');
  assert.ok(sm.acks.some((/** @type {any} */ a) => a.client === jm.client));
  assert.ok(!sm.acks.some((/** @type {any} */ a) => a.client === jp.client), 'acks list only the own group');
  // the game payload of one tick is the same object in both codecs
  assert.deepEqual(sp.payload, sm.payload);
  const state = sp.payload.kind.state;
  assert.deepEqual(Object.keys(sp.payload), ['kind']);
  assert.deepEqual(Object.keys(state).sort(), fieldsOf('arena.v2.State'));
  for (const pl of state.players) assert.deepEqual(Object.keys(pl).sort(), fieldsOf('arena.v2.Player'));
  assert.deepEqual(state.players.map((/** @type {any} */ pl) => pl.name).filter((/** @type {string} */ n) => n === 'pp' || n === 'mm').sort(), ['mm', 'pp']);
  assert.ok(state.round === null || typeof state.round === 'object');
});

test('v1 clients get the v1 shape (no v2 fields) in both codecs', { timeout: 20_000 }, async () => {
  for (const token of ['arena.v1.proto', 'arena.v1.msgpack']) {
    const c = await connect({ tokens: [token] });
    const j = await c.create('arena');
    const s = await stateWhere(c, j.room);
    const [pl] = s.payload.kind.state.players;
    assert.deepEqual(Object.keys(pl).sort(), fieldsOf('arena.v1.Player'));
    assert.equal('name' in pl, false);
    await c.close();
  }
});

test('inputs encoded in each codec are accepted and acked in State.acks', { timeout: 20_000 }, async () => {
  const p = await connect({ tokens: ['arena.v2.proto'] });
  const jp = await p.create('arena', { name: 'in-p' });
  const m = await connect({ tokens: ['arena.v2.msgpack'] });
  const jm = await m.join(jp.room, { name: 'in-m' });
  // msgpack without any .proto: the input object goes out as given
  const raw = await connect({ tokens: ['arena.v2.msgpack'], protos: [] });
  const jr = await raw.join(jp.room, { name: 'in-raw' });
  const input = { moveX: 1, moveY: -1, sprint: true, fire: false, aimX: 1, aimY: 0 };
  /** @type {Array<[Client, import('../src/client.js').JoinResult]>} */
  const all = [[p, jp], [m, jm], [raw, jr]];
  for (const [c, j] of all) {
    const acked = stateWhere(c, j.room, (s) => s.acks.some((/** @type {any} */ a) => a.client === j.client && a.seq >= 3));
    for (let seq = 1; seq <= 3; seq++) assert.equal(c.sendInput(j.room, seq, input), true);
    const s = await acked;
    assert.deepEqual(s.acks.find((/** @type {any} */ a) => a.client === j.client), { client: j.client, seq: 3 });
  }
  // the proto and msgpack clients share a room; without a schema the shape is the same too
  const sr = await stateWhere(raw, jr.room);
  const sm = await stateWhere(m, jm.room);
  assert.deepEqual(shapeOf(sr), shapeOf(sm));
  assert.equal(raw.status, 'open');
  assert.equal(m.status, 'open');
  assert.equal(p.status, 'open');
});

test('reliable messages: a join is broadcast to the room as a game event', { timeout: 20_000 }, async () => {
  const a = await connect({ tokens: ['arena.v2.proto'] });
  const ja = await a.create('arena', { name: 'ann' });
  /** @type {import('../src/client.js').RoomMessage[]} */
  const got = [];
  a.on('message', (mm) => got.push(mm));
  for (const token of ['arena.v2.msgpack', 'arena.v2.proto']) {
    const name = `bob-${token.split('.')[2]}`;
    const b = await connect({ tokens: [token] });
    const jb = await b.join(ja.room, { name });
    // the JOINED event names the player in its text, or has kind JOINED (1) with the player as actor
    const isJoin = (/** @type {any} */ ev) => ev && (ev.text.includes(name) || (ev.kind === 1 && ev.actor === jb.client));
    let msg;
    for (let i = 0; i < 100 && !msg; i++) {
      msg = got.find((mm) => mm.room === ja.room && isJoin(mm.payload.kind?.event));
      if (!msg) await sleep(30);
    }
    assert.ok(msg, `no JOINED event for ${name}; got ${JSON.stringify(got.map((mm) => mm.payload))}`);
    assert.deepEqual(Object.keys(msg).sort(), ['payload', 'room', 'seq']);
    assert.ok(Number.isInteger(msg.seq) && msg.seq >= 1);
    assert.deepEqual(Object.keys(msg.payload.kind.event).sort(), fieldsOf('arena.v2.Event'));
    await b.close();
  }
});

test('ping measures the round trip', { timeout: 10_000 }, async () => {
  const c = await connect();
  assert.equal(c.rttMs, null);
  const pong = waitFor(c, 'pong');
  const rtt = await c.ping();
  assert.ok(rtt >= 0 && rtt < 1000, `rtt ${rtt}`);
  assert.equal(c.rttMs, rtt);
  const p = await pong;
  assert.ok(p.serverTime > 1.6e12 && p.clientTime > 1.6e15, JSON.stringify(p));
  const rtts = await Promise.all([c.ping(), c.ping(), c.ping()]);
  assert.equal(rtts.length, 3);
});

test('join errors and leave', { timeout: 10_000 }, async () => {
  const c = await connect({ tokens: ['arena.v2.msgpack'] });
  await assert.rejects(c.join('nonexisten'), (e) => e instanceof JoinError && e.code === 1 && e.codeName === 'ROOM_NOT_FOUND');
  await assert.rejects(c.create('chess'), (e) => e instanceof JoinError && e.codeName === 'UNKNOWN_ROOM_TYPE');
  const j = await c.joinOrCreate('arena', { name: 'leaver' });
  await stateWhere(c, j.room);
  assert.equal(c.clientId(j.room), j.client);
  const left = await c.leave(j.room);
  assert.deepEqual(left, { room: j.room, reason: 1, detail: '' });
  assert.equal(c.clientId(j.room), null);
  let after = 0;
  c.on('state', (s) => s.room === j.room && after++);
  await sleep(150);
  assert.equal(after, 0);
  await assert.rejects(c.leave(j.room), /not in room/);
  // the server answers an input for a room we are not in with Error{4004}
  const err = waitFor(c, 'error');
  c.sendInput(j.room, 1, { moveX: 1 });
  const e = await err;
  assert.equal(e.code, 4004);
  assert.equal(typeof e.reason, 'string');
});

test('a refused handshake explains itself: versions on both sides', { timeout: 10_000 }, async () => {
  const v9 = PROTOS.arenaV2.replace('package arena.v2;', 'package arena.v9;');
  await assert.rejects(
    Client.connect(arena.url, options({ tokens: ['arena.v9.proto'], protos: [PROTOS.envelope, v9] })),
    (e) => {
      assert.ok(e instanceof HandshakeRefusedError, String(e));
      assert.equal(e.kind, 'incompatible');
      assert.match(e.message, /this client speaks arena v9 \(arena\.v9\.proto\)/);
      assert.match(e.message, /the server speaks arena v1–v2 \(arena\.v2\.proto, arena\.v2\.msgpack, arena\.v1\.proto, arena\.v1\.msgpack\)/);
      assert.deepEqual(e.serverVersions, [2, 1]);
      assert.deepEqual(e.serverProtocols, ALL_TOKENS);
      return true;
    },
  );
});

test('an unreachable server is reported as such', { timeout: 10_000 }, async () => {
  const port = await new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = /** @type {import('node:net').AddressInfo} */ (s.address()).port;
      s.close(() => resolve(p));
    });
  });
  await assert.rejects(Client.connect(`ws://127.0.0.1:${port}/ws`, options()), (e) => {
    assert.ok(e instanceof ConnectError && !(e instanceof HandshakeRefusedError), String(e));
    assert.equal(e.kind, 'unreachable');
    assert.match(e.message, new RegExp(`could not connect to ws://127\\.0\\.0\\.1:${port}/ws: the server is unreachable`));
    assert.match(e.message, /ECONNREFUSED/);
    return true;
  });
});

test('close() closes with 1000 and does not reconnect', { timeout: 10_000 }, async () => {
  const c = await connect({ reconnect: { baseMs: 10, maxTries: 3 } });
  let reconnecting = 0;
  c.on('reconnecting', () => reconnecting++);
  const closed = waitFor(c, 'close');
  await c.close();
  assert.deepEqual(await closed, { code: 1000, reason: '' });
  assert.equal(c.status, 'closed');
  await sleep(50);
  assert.equal(reconnecting, 0);
  await assert.rejects(c.ping(), /not connected/);
  assert.equal(c.sendInput('x', 1, {}), false);
});
