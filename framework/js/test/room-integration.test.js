// The Room handle against the real arena server: the server acks what the
// handle numbered, in both codecs, and the handle keeps working after a cut
// link (resumed: the same seat) and after a server restart (a new session:
// the handle follows the new seat into a new room).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../src/index.js';
import { startArena, startArenaOn, options, waitFor } from './helpers.js';
import { startProxy } from './proxy.js';

/** @type {Array<() => Promise<unknown> | unknown>} */
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

const reconnect = { baseMs: 50, capMs: 400, maxTries: 30 };
const input = { moveX: 1, moveY: 0, sprint: false, fire: false, aimX: 1, aimY: 0 };

/**
 * Resolves once the handle's ack reaches `seq` (from its own states).
 * @param {import('../src/index.js').Room} room
 * @param {number} seq
 * @param {number} [ms=5000]
 * @returns {Promise<import('../src/client.js').RoomState>}
 */
function ackedTo(room, seq, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`room ${room.id}: ack ${room.ackedSeq}, not ${seq}, within ${ms} ms`));
    }, ms);
    const off = room.onState((s) => {
      if (s.ackedSeq !== seq) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

test('the server acks what the handle numbered, found by the seat’s own client id, in both codecs', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  const p = await Client.connect(arena.url, options({ tokens: ['arena.v2.proto'] }));
  cleanups.push(() => p.close());
  const m = await Client.connect(arena.url, options({ tokens: ['arena.v2.msgpack'] }));
  cleanups.push(() => m.close());
  const rp = await p.create('arena', { name: 'hp' });
  const rm = await m.join(rp.id, { name: 'hm' });
  for (const room of [rp, rm]) {
    const acked = ackedTo(room, 3);
    assert.deepEqual([room.send(input), room.send(input), room.send(input)], [1, 2, 3]);
    const s = await acked;
    assert.equal(s.acked.at(-1)?.seq, 3);
    assert.deepEqual(room.unacked, []);
  }
  assert.notEqual(rp.clientId, rm.clientId);
});

test('a cut link: the handle goes on with its seat; inputs before and after the cut are acked', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  const proxy = await startProxy(arena.port);
  cleanups.push(() => proxy.close());
  const c = await Client.connect(proxy.url(), options({ tokens: ['arena.v2.msgpack'], reconnect }));
  cleanups.push(() => c.close());
  const room = await c.create('arena', { name: 'cut' });
  const seat = room.clientId;
  room.send(input);
  room.send(input);
  await ackedTo(room, 2);
  const resumed = waitFor(c, 'resumed', () => true, 10_000);
  proxy.cut();
  await resumed;
  assert.equal(c.getRoom(room.id), room);
  assert.equal(room.clientId, seat, 'the same seat');
  const acked = ackedTo(room, 3);
  assert.equal(room.send(input), 3, 'the numbering goes on');
  await acked;
});

test('a server restart: a new session, the handle follows its new seat and numbers from 1 again', { timeout: 30_000 }, async () => {
  let arena = await startArena();
  cleanups.push(() => arena.kill());
  const c = await Client.connect(arena.url, options({ tokens: ['arena.v2.proto'], reconnect }));
  cleanups.push(() => c.close());
  const room = await c.joinOrCreate('arena', { name: 'phoenix' });
  room.send(input);
  await ackedTo(room, 1);
  const before = room.id;
  const rejoined = new Promise((resolve) => room.onRejoined(resolve));
  const port = arena.port;
  await arena.kill('SIGKILL');
  arena = await startArenaOn(port);
  const r = /** @type {import('../src/client.js').RejoinedEvent} */ (await rejoined);
  assert.equal(r.previous, before);
  assert.equal(room.id, r.room);
  assert.notEqual(room.id, before, 'the new server has new rooms');
  assert.equal(room.active, true);
  assert.deepEqual({ sent: room.sentSeq, acked: room.ackedSeq }, { sent: 0, acked: 0 });
  const acked = ackedTo(room, 1, 10_000);
  assert.equal(room.send(input), 1, 'the seat takes inputs as soon as it is there');
  await acked;
});
