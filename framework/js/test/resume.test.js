// Session resume against the real arena server (ARENA_BIN), with real
// faults: a TCP proxy (test/proxy.js) between the client and the server that
// loses what the server sends and resets the connection mid-stream, or keeps
// the client out until its session has expired; a second connection taking
// the session over (4009); a server killed with a second one in the URL list.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { encode, decode } from '@msgpack/msgpack';
import { WebSocket } from 'ws';
import { Client } from '../src/index.js';
import { startArena, options, waitFor, sleep } from './helpers.js';
import { startProxy } from './proxy.js';

/** @type {Array<() => Promise<unknown> | unknown>} */
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

/**
 * A second client that joins and leaves `room` in a loop, as `c1`, `c2`, …:
 * every join and leave is a reliable event (`cN joined` / `cN left`) for
 * everyone in the room. `stop()` ends the loop and resolves with the number
 * of join/leave cycles completed.
 * @param {string} url
 * @param {string} room
 */
async function churn(url, room) {
  const ch = await Client.connect(url, options({ tokens: ['arena.v2.msgpack'] }));
  cleanups.push(() => ch.close());
  let stopped = false;
  let cycles = 0;
  const loop = (async () => {
    while (!stopped) {
      await ch.join(room, { name: `c${cycles + 1}` });
      await ch.leave(room);
      cycles += 1;
      await sleep(15); // ~2 events per 20 ms: well under the 256-message replay bound per outage
    }
  })();
  return {
    cycles: () => cycles,
    async stop() {
      stopped = true;
      await loop;
      await ch.close();
      return cycles;
    },
  };
}

/** The `cN joined` / `cN left` texts a churn of `n` cycles produces, in order. */
function churnTexts(/** @type {number} */ n) {
  return Array.from({ length: n }, (_, i) => [`c${i + 1} joined`, `c${i + 1} left`]).flat();
}

const reconnect = { baseMs: 100, capMs: 400, maxTries: 30 };

for (const token of ['arena.v2.proto', 'arena.v2.msgpack']) {
  test(`${token}: connection cut mid-stream (3 times): resumed, every reliable message exactly once and in order`, { timeout: 30_000 }, async () => {
    const arena = await startArena();
    cleanups.push(() => arena.kill());
    const proxy = await startProxy(arena.port);
    cleanups.push(() => proxy.close());
    const keeper = await Client.connect(arena.url, options({ tokens: ['arena.v2.msgpack'] }));
    cleanups.push(() => keeper.close());
    const { room } = await keeper.create('arena', { name: 'keeper' });

    const c = await Client.connect(proxy.url(), options({ tokens: [token], reconnect }));
    cleanups.push(() => c.close());
    const j = await c.join(room, { name: 'watcher' });
    const session = c.session;
    /** @type {Array<{ seq: number, text: string }>} */
    const got = [];
    c.on('message', (m) => got.push({ seq: m.seq, text: m.payload.kind?.event?.text ?? '' }));
    /** @type {import('../src/client.js').ResumedEvent[]} */
    const resumes = [];
    c.on('resumed', (r) => resumes.push(r));
    /** @type {unknown[]} */
    const bad = [];
    c.on('newSession', (e) => bad.push(['newSession', e]));
    c.on('error', (e) => bad.push(['error', e]));
    c.on('close', (e) => bad.push(['close', e]));

    const churner = await churn(arena.url, room);
    const atLeast = (/** @type {number} */ n) => until(() => got.length >= n);
    await atLeast(10);
    // 1: the link dies while the server keeps writing (frozen: its bytes are
    // lost), then both sides are reset: the server has written messages the
    // client never got.
    assert.equal(proxy.freeze(), 1);
    await sleep(300);
    const lost = proxy.dropped();
    assert.ok(lost > 0, 'the server wrote while the link was frozen');
    let resumed = waitFor(c, 'resumed', () => true, 10_000);
    assert.equal(proxy.cut(), 1);
    await resumed;
    await atLeast(got.length + 10);
    // 2: a plain reset
    resumed = waitFor(c, 'resumed', () => true, 10_000);
    proxy.cut();
    await resumed;
    await atLeast(got.length + 10);
    // 3: frozen again, longer
    proxy.freeze();
    await sleep(500);
    resumed = waitFor(c, 'resumed', () => true, 10_000);
    proxy.cut();
    await resumed;
    await atLeast(got.length + 10);

    const cycles = await churner.stop();
    await until(() => got.some((g) => g.text === `c${cycles} left`));
    await sleep(100);
    const churned = got.map((g) => g.text).filter((t) => /^c\d+ (joined|left)$/.test(t));
    assert.deepEqual(churned, churnTexts(cycles), 'each churn event once, in order');
    // the room numbers its reliable messages: consecutive, no repeats, across all three cuts
    for (let i = 1; i < got.length; i++) assert.equal(got[i].seq, got[i - 1].seq + 1, `message ${i}: ${JSON.stringify(got.slice(i - 2, i + 1))}`);
    assert.equal(resumes.length, 3);
    for (const r of resumes) {
      assert.equal(r.session, session);
      assert.equal(r.resync, false);
      assert.deepEqual(r.rooms, [{ room, roomType: 'arena', tickHz: j.tickHz, client: j.client }]);
    }
    assert.ok(resumes[0].replayed > 0 && resumes[2].replayed > 0, `replayed: ${resumes.map((r) => r.replayed)}`);
    assert.deepEqual(bad, []);
    assert.equal(c.session, session);
    assert.equal(c.clientId(room), j.client, 'the same seat');
    assert.equal(c.status, 'open');
    // the seat is live: an input is acked for the same client id
    const acked = waitFor(c, 'state', (s) => s.acks.some((a) => a.client === j.client && a.seq === 7), 5000);
    assert.equal(c.sendInput(room, 7, { moveX: 1 }), true);
    await acked;
    await c.close();
  });
}

test('session expired while the client was kept out: newSession, the room rejoined', { timeout: 30_000 }, async () => {
  const arena = await startArena(0, 10_000, ['--reconnect-window', '1']);
  cleanups.push(() => arena.kill());
  const proxy = await startProxy(arena.port);
  cleanups.push(() => proxy.close());
  const keeper = await Client.connect(arena.url, options({ tokens: ['arena.v2.msgpack'] }));
  cleanups.push(() => keeper.close());
  const { room } = await keeper.create('arena', { name: 'keeper' });
  /** @type {string[]} */
  const keeperSaw = [];
  keeper.on('message', (m) => keeperSaw.push(m.payload.kind?.event?.text ?? ''));

  const c = await Client.connect(proxy.url(), options({ reconnect: { baseMs: 200, capMs: 400, maxTries: 40 } }));
  cleanups.push(() => c.close());
  const j = await c.join(room, { name: 'expirer' });
  const oldSession = c.session;
  /** @type {string[]} */
  const order = [];
  for (const e of /** @type {const} */ (['resumed', 'newSession', 'reconnected'])) c.on(e, () => order.push(e));
  const fresh = waitFor(c, 'newSession', () => true, 20_000);
  const reconnected = waitFor(c, 'reconnected', () => true, 20_000);

  proxy.refuse(true);
  proxy.cut();
  // the room gives the seat up after its 1 s window ...
  await until(() => keeperSaw.includes('expirer left'));
  // ... and the session sweep (once a second) ends the session
  await sleep(1500);
  assert.equal(c.status, 'reconnecting');
  proxy.refuse(false);

  const n = await fresh;
  assert.equal(n.previous, oldSession);
  assert.notEqual(n.session, oldSession);
  assert.match(n.reason, /expired or unknown/);
  const r = await reconnected;
  assert.equal(r.resumed, false);
  assert.deepEqual(r.rooms.map((x) => [x.previous, x.room]), [[room, room]], 'the same room, rejoined by id');
  assert.notEqual(r.rooms[0].client, j.client, 'a new seat');
  assert.deepEqual(order, ['newSession', 'reconnected']);
  assert.equal(c.session, n.session);
  await until(() => keeperSaw.filter((t) => t === 'expirer joined').length === 2);
  // the new session's reliable stream starts over: its Joined was seq 1
  assert.ok(c.lastSeq >= 1 && c.lastSeq < 10, String(c.lastSeq));
});

test('a second connection resumes the session: the first is closed with 4009, replaced, and does not reconnect', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  const c = await Client.connect(arena.url, options({ tokens: ['arena.v2.msgpack'], reconnect }));
  cleanups.push(() => c.close());
  const j = await c.create('arena', { name: 'twin' });
  /** @type {string[]} */
  const seen = [];
  c.on('reconnecting', () => seen.push('reconnecting'));
  c.on('replaced', (e) => seen.push(`replaced ${e.code}`));
  const closed = waitFor(c, 'close', () => true, 5000);

  // another tab with the same token: a raw connection sending Resume first
  const other = new WebSocket(arena.url, ['arena.v2.msgpack']);
  cleanups.push(() => other.terminate());
  /** @type {any[]} */
  const frames = [];
  other.on('message', (d) => frames.push(decode(/** @type {Buffer} */ (d))));
  await new Promise((resolve, reject) => {
    other.once('open', resolve);
    other.once('error', reject);
  });
  await until(() => frames.length >= 1);
  other.send(encode({ kind: { resume: { token: c.resumeToken, lastSeq: c.lastSeq } } }));

  const close = await closed;
  assert.equal(close.code, 4009);
  assert.match(close.reason, /resumed on another connection/);
  await until(() => frames.some((f) => f.kind?.resumed));
  const resumed = frames.find((f) => f.kind?.resumed).kind.resumed;
  assert.equal(resumed.session, c.session);
  assert.deepEqual(resumed.rooms.map((/** @type {any} */ r) => [r.room, r.client]), [[j.room, j.client]]);
  await sleep(600); // longer than the first reconnect delay would be
  assert.deepEqual(seen, ['replaced 4009']);
  assert.equal(c.status, 'closed');
});

test('URL list: the server dies; the next URL takes over with a new session and the room is recreated there', { timeout: 30_000 }, async () => {
  const a = await startArena();
  cleanups.push(() => a.kill());
  const b = await startArena();
  cleanups.push(() => b.kill());
  const c = await Client.connect([a.url, b.url], options({ tokens: ['arena.v2.proto'], reconnect: { baseMs: 50, capMs: 200, maxTries: 10 } }));
  cleanups.push(() => c.close());
  assert.equal(c.url, a.url);
  const j = await c.joinOrCreate('arena', { name: 'nomad' });
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => tried.push(e.url));
  const fresh = waitFor(c, 'newSession', () => true, 10_000);
  const reconnected = waitFor(c, 'reconnected', () => true, 10_000);
  await a.kill('SIGKILL');
  const n = await fresh;
  // b never issued that token (another process, another key): 4002
  assert.match(n.reason, /signature|expired or unknown/);
  const r = await reconnected;
  assert.equal(r.url, b.url);
  assert.equal(c.url, b.url);
  assert.equal(r.resumed, false);
  assert.deepEqual(tried.slice(0, 2), [a.url, b.url], 'the lost server first, then the next URL');
  assert.equal(r.rooms.length, 1);
  assert.equal(r.rooms[0].previous, j.room);
  assert.notEqual(r.rooms[0].room, j.room, 'a room of the same type on b');
  const s = await waitFor(c, 'state', (st) => st.room === r.rooms[0].room, 5000);
  assert.ok(s.payload.kind.state.players.some((/** @type {any} */ p) => p.name === 'nomad'));
});

/**
 * Polls `fn` every 10 ms until it is true, for at most `ms`.
 * @param {() => boolean} fn
 * @param {number} [ms=5000]
 */
async function until(fn, ms = 5000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${fn}`);
    await sleep(10);
  }
}
