// Channels against the real arena server (ARENA_BIN), which opens `lobby`
// (server notices) and `chat.*` (clients publish): two clients of different
// codecs on one chat channel, the refusals, recovery, and the SDK's own
// re-subscribe after a server restart (a new session, and a new epoch).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ChannelError } from '../src/index.js';
import { startArena, startArenaOn, options, waitFor } from './helpers.js';

/** @type {Array<() => Promise<unknown> | unknown>} */
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

const bytes = (/** @type {string} */ s) => new TextEncoder().encode(s);
const text = (/** @type {Uint8Array} */ b) => new TextDecoder().decode(b);

test('two clients (proto and msgpack) on chat.room1: one publishes, the other receives it; positions, presence, refusals', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  const a = await Client.connect(arena.url, options({ tokens: ['arena.v2.proto'] }));
  cleanups.push(() => a.close());
  const b = await Client.connect(arena.url, options({ tokens: ['arena.v2.msgpack'] }));
  cleanups.push(() => b.close());

  const sa = await a.subscribe('chat.room1');
  assert.equal(sa.channel, 'chat.room1');
  assert.equal(sa.offset, 0);
  assert.ok(sa.epoch, 'a channel has an epoch');
  const joined = waitFor(a, 'presence', (p) => p.channel === 'chat.room1' && p.joined.length > 0, 5000);
  const sb = await b.subscribe('chat.room1');
  assert.equal(sb.presence.length, 2, `both are there: ${sb.presence}`);
  await joined;

  const gotB = waitFor(b, 'publication', (p) => p.channel === 'chat.room1', 5000);
  const gotA = waitFor(a, 'publication', (p) => p.channel === 'chat.room1', 5000);
  const request = a.publish('chat.room1', bytes('hello from a'));
  assert.ok(request > 0);
  const pb = await gotB;
  assert.equal(text(pb.payload), 'hello from a');
  assert.equal(pb.offset, 1);
  assert.equal(pb.epoch, sa.epoch);
  assert.ok(pb.publisher, 'the publisher is named (its session without auth)');
  const pa = await gotA;
  assert.equal(text(pa.payload), 'hello from a', 'the publisher gets its own publication too');
  assert.deepEqual(b.channelPosition('chat.room1'), { offset: 1, epoch: sa.epoch });
  assert.deepEqual(a.channelPosition('chat.room1'), { offset: 1, epoch: sa.epoch });

  // refusals
  await assert.rejects(a.subscribe('nope'), (e) => e instanceof ChannelError && e.code === 404);
  await assert.rejects(a.subscribe('chat.room1'), (e) => e instanceof ChannelError && e.code === 409);
  await assert.rejects(a.subscribe('bad..name'), (e) => e instanceof ChannelError && e.code === 400);
  await a.subscribe('lobby');
  const refused = waitFor(a, 'channelError', () => true, 5000);
  const req = a.publish('lobby', bytes('not allowed'));
  const e = /** @type {ChannelError} */ (await refused);
  assert.equal(e.code, 403);
  assert.equal(e.request, req);

  // recovery: b leaves, a publishes twice, b comes back from its position
  b.unsubscribe('chat.room1');
  a.publish('chat.room1', bytes('m2'));
  a.publish('chat.room1', bytes('m3'));
  await waitFor(a, 'publication', (p) => p.offset === 3, 5000);
  const back = await b.subscribe('chat.room1', { from: { offset: 1, epoch: sa.epoch } });
  assert.equal(back.recovered, true);
  assert.deepEqual(back.missed.map((p) => text(p.payload)), ['m2', 'm3']);
  assert.deepEqual(b.channelPosition('chat.room1'), { offset: 3, epoch: sa.epoch });
});

test('a server restart: a new session, the SDK subscribes again by itself (recovered: false, a new epoch)', { timeout: 30_000 }, async () => {
  let arena = await startArena();
  cleanups.push(() => arena.kill());
  const reconnect = { baseMs: 50, capMs: 400, maxTries: 30 };
  const c = await Client.connect(arena.url, options({ tokens: ['arena.v2.proto'], reconnect }));
  cleanups.push(() => c.close());
  const s = await c.subscribe('chat.phoenix');
  c.publish('chat.phoenix', bytes('before'));
  await waitFor(c, 'publication', () => true, 5000);
  const resubscribed = waitFor(c, 'resubscribed', () => true, 20_000);
  const port = arena.port;
  await arena.kill('SIGKILL');
  arena = await startArenaOn(port);
  const r = await resubscribed;
  assert.equal(r.channel, 'chat.phoenix');
  assert.equal(r.recovered, false, 'one process: the restart lost the history');
  assert.notEqual(r.epoch, s.epoch);
  assert.deepEqual(c.channels, ['chat.phoenix']);
  const got = waitFor(c, 'publication', () => true, 5000);
  c.publish('chat.phoenix', bytes('after'));
  const p = await got;
  assert.equal(text(p.payload), 'after');
  assert.deepEqual(c.channelPosition('chat.phoenix'), { offset: 1, epoch: r.epoch });
});
