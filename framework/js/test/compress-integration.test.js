// Compressed states (docs/protocol.md §4.6) against the real arena server:
// a client with `compression: true` is answered `deflate`, its large states
// come compressed and decode to what a client that did not ask sees; with
// the threshold lowered (`--compression-min-bytes`) every msgpack state
// comes compressed, in both versions (arena's proto states of a few players
// are too small to shrink, and go plain); and a resume after a cut link asks again and goes on
// getting compressed states.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../src/index.js';
import { startArena, options, waitFor, sleep } from './helpers.js';
import { startProxy } from './proxy.js';

/** @type {Array<() => Promise<unknown> | unknown>} */
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

/**
 * A client connected to `url` (closed after the file).
 * @param {string} url
 * @param {Partial<import('../src/client.js').ConnectOptions>} extra
 */
async function connect(url, extra) {
  const c = await Client.connect(url, options(extra));
  cleanups.push(() => c.close());
  return c;
}

/**
 * Waits until `ok()` holds, polling.
 * @param {string} what
 * @param {() => boolean} ok
 * @param {number} [ms=5000]
 */
async function until(what, ok, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** The names of the players in a decoded arena state. @param {any} s */
const names = (s) => (s.payload.kind?.state?.players ?? []).map((/** @type {any} */ p) => p.name).sort();

test('compression: true gets deflate; the large states come compressed and decode as a plain client sees them', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  // arena.v2.msgpack: a whole state of two players is over the default threshold (256 bytes).
  const plain = await connect(arena.url, { tokens: ['arena.v2.msgpack'] });
  const zipped = await connect(arena.url, { tokens: ['arena.v2.msgpack'], compression: true });
  assert.equal(zipped.compression, 'deflate');
  assert.equal(zipped.welcome.compression, 'deflate');
  assert.equal(plain.compression, null, 'did not ask');
  const room = await plain.create('arena', { name: 'plain' });
  await zipped.join(room.id, { name: 'zipped' });

  /** @type {Map<number, any>} */
  const fromPlain = new Map();
  /** @type {Map<number, any>} */
  const fromZipped = new Map();
  plain.on('state', (s) => fromPlain.set(Number(s.tick), s));
  zipped.on('state', (s) => fromZipped.set(Number(s.tick), s));
  const common = () => [...fromZipped.keys()].find((t) => fromPlain.has(t) && names(fromZipped.get(t)).length === 2);
  await until('a compressed state, a delta, and a tick both saw with both players', () => zipped.stats.compressedStates >= 1 && zipped.stats.deltaStates >= 1 && common() !== undefined);
  const tick = /** @type {number} */ (common());
  assert.deepEqual(fromZipped.get(tick).payload, fromPlain.get(tick).payload, 'the same state, inflated');
  assert.deepEqual(names(fromZipped.get(tick)), ['plain', 'zipped']);

  const z = zipped.stats;
  assert.equal(z.inflateFailures, 0, JSON.stringify(z));
  assert.equal(z.deltaFailures, 0, JSON.stringify(z));
  assert.ok(z.compressedBytes < z.inflatedBytes, `compressed states are smaller: ${JSON.stringify(z)}`);
  assert.equal(plain.stats.compressedStates, 0, 'nothing compressed for a client that did not ask');
});

test('--compression-min-bytes 32: every msgpack state comes compressed, v1 and v2, and decodes', { timeout: 20_000 }, async () => {
  const arena = await startArena(0, 10_000, ['--compression-min-bytes', '32']);
  cleanups.push(() => arena.kill());
  // deltas: false, so every state is whole (deltas of a few bytes stay under any threshold).
  const v1 = await connect(arena.url, { tokens: ['arena.v1.msgpack'], compression: true, deltas: false });
  const v2 = await connect(arena.url, { tokens: ['arena.v2.msgpack'], compression: true, deltas: false });
  const pb = await connect(arena.url, { tokens: ['arena.v2.proto'], compression: true });
  const room = await v1.create('arena', { name: 'v1' });
  await v2.join(room.id, { name: 'v2' });
  await pb.join(room.id, { name: 'pb' });
  /** @type {Map<string, any>} */
  const last = new Map();
  for (const [name, c] of /** @type {const} */ ([['v1', v1], ['v2', v2], ['pb', pb]])) c.on('state', (s) => last.set(name, s));
  await until('10 compressed states each', () => v1.stats.compressedStates >= 10 && v2.stats.compressedStates >= 10);
  for (const c of [v1, v2]) {
    const s = c.stats;
    assert.equal(c.compression, 'deflate');
    assert.equal(s.inflateFailures, 0, JSON.stringify(s));
    assert.ok(s.compressedStates >= s.wholeStates - 2, `nearly every state came compressed: ${JSON.stringify(s)}`);
  }
  // (v1 players have no names)
  for (const name of ['v1', 'v2', 'pb']) assert.equal(names(last.get(name)).length, 3, `${name} decodes its states`);
  assert.equal(pb.compression, 'deflate', 'asked and answered (its states go plain where DEFLATE does not shrink them)');
  assert.equal(pb.stats.inflateFailures, 0);
});

test('a resume after a cut link asks again, and the states after it come compressed', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  const proxy = await startProxy(arena.port);
  cleanups.push(() => proxy.close());
  const other = await connect(arena.url, { tokens: ['arena.v2.msgpack'] });
  const room = await other.create('arena', { name: 'other' });
  const c = await connect(proxy.url(), { tokens: ['arena.v2.msgpack'], compression: true, reconnect: { baseMs: 50, capMs: 400, maxTries: 30 } });
  await c.join(room.id, { name: 'cut' });
  await until('a compressed state', () => c.stats.compressedStates >= 1);
  const before = c.stats.compressedStates;
  const resumed = waitFor(c, 'resumed', () => true, 10_000);
  proxy.cut();
  await resumed;
  assert.equal(c.compression, 'deflate', "the resumed connection's Welcome");
  /** @type {any[]} */
  const after = [];
  c.on('state', (s) => after.push(s));
  // The server sends whole states first after a resume: over the threshold, so compressed.
  await until('a compressed state after the resume', () => c.stats.compressedStates > before && after.length > 0);
  assert.deepEqual(names(after.at(-1)), ['cut', 'other']);
  assert.equal(c.stats.inflateFailures, 0);
  assert.equal(c.stats.deltaFailures, 0);
});
