// Cluster redirects in the client, against scripted fake servers: the
// `Hello` that announces them, and following a `Redirect` to the room's
// node (docs/protocol.md §4.3). The real two-node cluster: cluster.test.js.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from '../src/index.js';
import { VERSION, HELLO_CLIENT } from '../src/version.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions } from './fake-sessions.js';
import { mockClock } from './clock.js';

const URL = 'ws://127.0.0.1:9/ws';
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({
  tokens: ['arena.v2.msgpack'],
  WebSocket: FakeWebSocket,
  timeoutMs: 1000,
  ...extra,
});
const kindOf = (/** @type {any} */ m) => Object.keys(m.kind)[0];

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
beforeEach(() => {
  fake = fakeSessions();
  resetFake(fake.server);
});

test('Hello names the SDK and its version (package.json) and announces redirect', () => {
  const pkg = JSON.parse(readFileSync(new globalThis.URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
  assert.equal(HELLO_CLIENT, `playhouse-js/${pkg.version}; redirect`);
});

test('every connection says Hello first, right after the Welcome: the first, and a resume after a drop', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 } })));
  await clock.run(c.join('room1'));
  const first = FakeWebSocket.sockets[0];
  assert.deepEqual(first.all[0], { kind: { hello: { client: HELLO_CLIENT } } });
  first.drop();
  const resumed = new Promise((r) => c.once('resumed', r));
  await clock.run(resumed);
  const second = FakeWebSocket.sockets[1];
  assert.deepEqual(second.all.map(kindOf).slice(0, 2), ['hello', 'resume'], 'Hello, then Resume: the server takes both');
  assert.deepEqual(c.rooms.map((r) => r.room), ['room1'], 'the seat is kept');
  await clock.run(c.close());
});
