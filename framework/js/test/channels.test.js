// Channels in the client (docs/protocol.md §4.4), against a scripted fake
// server with sessions (fake-sessions.js) that also keeps channels: `lobby`
// (no client publishing) and `chat.*` (clients publish), each with an epoch
// and a history. No real server (see channels-integration.test.js for that).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ChannelError, ChannelErrorCode, ConnectionClosedError } from '../src/index.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions } from './fake-sessions.js';
import { waitFor } from './helpers.js';

const URL = 'ws://127.0.0.1:9/ws';
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({
  tokens: ['arena.v2.msgpack'],
  WebSocket: FakeWebSocket,
  timeoutMs: 1000,
  reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 },
  ack: { every: 1000, intervalMs: 10_000 },
  ...extra,
});

/** The newest open socket (one client at a time in these tests). */
const wsOf = () =>
  /** @type {FakeWebSocket} */ (/** @type {unknown} */ ([...FakeWebSocket.sockets].reverse().find((ws) => ws.readyState === 1)));
/** Kinds of the messages a socket got from the client. */
const kinds = (/** @type {FakeWebSocket} */ ws) => ws.sent.map((m) => Object.keys(m.kind)[0]);
const bytes = (/** @type {string} */ s) => new TextEncoder().encode(s);
const text = (/** @type {Uint8Array} */ b) => new TextDecoder().decode(b);

/**
 * fakeSessions plus channels: Subscribe, Unsubscribe and Publish answered
 * the way §4.4 says, every answer and publication a reliable message of the
 * session (so a resume replays them and a new session has none).
 */
function fakeChannels() {
  const base = fakeSessions();
  /** @typedef {ReturnType<typeof base.session>} Sess */
  /** @type {Map<string, { epoch: string, log: Array<{ channel: string, offset: number, epoch: string, payload: Uint8Array, publisher: string }> }>} */
  const channels = new Map();
  /** subscriptions: session → names @type {Map<Sess, Set<string>>} */
  const subs = new Map();
  /** @type {any[]} the Subscribe messages received */
  const subscribes = [];
  const state = { epoch: 'e1', refuse: /** @type {Map<string, number>} */ (new Map()) };
  const covered = (/** @type {string} */ name) => name === 'lobby' || /^chat\.[A-Za-z0-9_-]+$/.test(name) || name === 'chat.*';
  const matches = (/** @type {string} */ sub, /** @type {string} */ name) =>
    sub === name || (sub.endsWith('.*') && name.startsWith(sub.slice(0, -1)) && !name.slice(sub.length - 1).includes('.'));
  const chan = (/** @type {string} */ name) => {
    let c = channels.get(name);
    if (!c || c.epoch !== state.epoch) {
      c = { epoch: state.epoch, log: [] };
      channels.set(name, c);
    }
    return c;
  };
  /** Publishes on `name` (as room code, or as `publisher`): every subscriber gets it. */
  const post = (/** @type {string} */ name, /** @type {string} */ body, publisher = '') => {
    const c = chan(name);
    const p = { channel: name, offset: c.log.length + 1, epoch: c.epoch, payload: bytes(body), publisher };
    c.log.push(p);
    for (const [s, names] of subs) for (const sub of names) if (matches(sub, name)) base.reliable(s, { publication: p });
    return p;
  };
  const onMessage = /** @type {NonNullable<typeof base.server.onMessage>} */ (base.server.onMessage);
  base.server.onMessage = (ws, msg) => {
    const [kind] = Object.keys(msg.kind);
    const m = msg.kind[kind];
    const s = base.session(ws);
    const refuse = (/** @type {number} */ code, /** @type {string} */ reason) =>
      base.reliable(s, { channelError: { request: m.request, channel: m.channel, code, reason } });
    if (kind === 'subscribe') {
      subscribes.push(m);
      const names = subs.get(s) ?? new Set();
      subs.set(s, names);
      const forced = state.refuse.get(m.channel);
      if (forced) return refuse(forced, 'refused by the test');
      if (!covered(m.channel)) return refuse(404, `no channel covers ${m.channel}`);
      if (names.has(m.channel)) return refuse(409, 'already subscribed');
      names.add(m.channel);
      const pattern = m.channel.includes('*');
      const c = pattern ? { epoch: '', log: [] } : chan(m.channel);
      let missed = /** @type {typeof c.log} */ ([]);
      let recovered = false;
      if (m.recover && c.epoch === m.epoch) {
        missed = c.log.filter((p) => p.offset > m.offset);
        recovered = true;
      }
      const presence = pattern ? [] : [...subs].filter(([, n]) => n.has(m.channel)).map(([x]) => x.id);
      base.reliable(s, {
        subscribed: { request: m.request, channel: m.channel, offset: c.log.length, epoch: c.epoch, recovered, missed, presence },
      });
    } else if (kind === 'unsubscribe') {
      subs.get(s)?.delete(m.channel);
    } else if (kind === 'publish') {
      if (m.channel.includes('*')) return refuse(400, 'publish to a pattern');
      if (!covered(m.channel)) return refuse(404, `no channel covers ${m.channel}`);
      if (m.channel === 'lobby') return refuse(403, 'clients may not publish on lobby');
      post(m.channel, text(m.payload), s.id);
    } else {
      onMessage(ws, msg);
    }
  };
  return { ...base, channels, subs, subscribes, post, chanState: state };
}

/** @type {ReturnType<typeof fakeChannels>} */
let fake;
beforeEach(() => {
  fake = fakeChannels();
  resetFake(fake.server);
});

test('subscribe resolves with Subscribed (position, presence); publications are events, in order; positions tracked', async () => {
  const c = await Client.connect(URL, opts());
  fake.post('chat.room1', 'before'); // offset 1, before the subscribe
  assert.equal(c.channelPosition('chat.room1'), null);
  const s = await c.subscribe('chat.room1');
  assert.equal(s.channel, 'chat.room1');
  assert.equal(s.offset, 1);
  assert.equal(s.epoch, 'e1');
  assert.equal(s.recovered, false);
  assert.deepEqual(s.missed, []);
  assert.deepEqual(s.presence, ['s1']);
  assert.deepEqual(c.channels, ['chat.room1']);
  assert.deepEqual(c.channelPosition('chat.room1'), { offset: 1, epoch: 'e1' });
  assert.equal(c.lastSeq, 1, 'Subscribed is a reliable message: counted');

  /** @type {import('../src/index.js').Publication[]} */
  const got = [];
  c.on('publication', (p) => got.push(p));
  fake.post('chat.room1', 'a', 'bob');
  fake.post('chat.room1', 'b');
  c.publish('chat.room1', bytes('mine'));
  assert.deepEqual(got.map((p) => [p.channel, p.offset, p.epoch, text(p.payload), p.publisher]), [
    ['chat.room1', 2, 'e1', 'a', 'bob'],
    ['chat.room1', 3, 'e1', 'b', ''],
    ['chat.room1', 4, 'e1', 'mine', 's1'],
  ]);
  assert.ok(got[0].payload instanceof Uint8Array);
  assert.deepEqual(c.channelPosition('chat.room1'), { offset: 4, epoch: 'e1' });
  assert.equal(c.lastSeq, 4, 'publications are reliable messages: counted');
  const ws = wsOf();
  const publish = ws.sent.find((m) => m.kind.publish);
  assert.deepEqual({ ...publish.kind.publish, payload: text(publish.kind.publish.payload) }, { request: 2, channel: 'chat.room1', payload: 'mine' });

  // a duplicate (a replay overlapping what arrived) is dropped with the other reliable messages
  ws.push({ kind: { publication: { channel: 'chat.room1', offset: 4, epoch: 'e1', payload: bytes('mine'), publisher: 's1' } }, seq: 4 });
  assert.equal(got.length, 3);

  // unsubscribe: no more publications, the position is forgotten
  assert.equal(c.unsubscribe('chat.room1'), true);
  assert.deepEqual(kinds(ws).at(-1), 'unsubscribe');
  fake.post('chat.room1', 'after');
  assert.equal(got.length, 3);
  assert.equal(c.channelPosition('chat.room1'), null);
  assert.deepEqual(c.channels, []);
  await c.close();
});

test('a pattern subscription gets publications under their concrete names; patterns keep no position', async () => {
  const c = await Client.connect(URL, opts());
  const s = await c.subscribe('chat.*');
  assert.equal(s.epoch, '');
  /** @type {string[]} */
  const got = [];
  c.on('publication', (p) => got.push(`${p.channel}:${text(p.payload)}`));
  fake.post('chat.eu', 'x');
  fake.post('chat.us', 'y');
  assert.deepEqual(got, ['chat.eu:x', 'chat.us:y']);
  assert.equal(c.channelPosition('chat.*'), null);
  assert.deepEqual(c.channelPosition('chat.eu'), { offset: 1, epoch: 'e1' });
  await c.close();
});

test('channelError rejects the subscribe with a typed ChannelError; a refused publish is the channelError event', async () => {
  const c = await Client.connect(URL, opts());
  await assert.rejects(c.subscribe('nope'), (e) => {
    assert.ok(e instanceof ChannelError);
    assert.equal(e.code, ChannelErrorCode.NOT_FOUND);
    assert.equal(e.code, 404);
    assert.equal(e.channel, 'nope');
    assert.match(e.reason, /no channel covers nope/);
    return true;
  });
  await c.subscribe('lobby');
  await assert.rejects(c.subscribe('lobby'), (e) => e instanceof ChannelError && e.code === 409);
  assert.deepEqual(c.channels, ['lobby'], 'a refused duplicate leaves the subscription alone');

  /** @type {ChannelError[]} */
  const errors = [];
  c.on('channelError', (e) => errors.push(e));
  const request = c.publish('lobby', bytes('hi'));
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ChannelError);
  assert.equal(errors[0].code, 403);
  assert.equal(errors[0].request, request, 'the request id publish returned names the refusal');
  assert.throws(() => c.publish('lobby', /** @type {any} */ ('text')), TypeError);
  await c.close();
  assert.throws(() => c.publish('chat.a', bytes('x')), ConnectionClosedError);
  await assert.rejects(c.subscribe('lobby'), ConnectionClosedError);
});

test('subscribe with recover: from the last position seen, or from an explicit one', async () => {
  const c = await Client.connect(URL, opts());
  await c.subscribe('chat.a');
  fake.post('chat.a', '1');
  c.unsubscribe('chat.a'); // forgets the position: recover is then a plain subscribe
  await c.subscribe('chat.a', { recover: true });
  assert.deepEqual(fake.subscribes.at(-1), { request: 2, channel: 'chat.a', recover: false, offset: 0, epoch: '' });
  fake.post('chat.a', '2');
  fake.post('chat.a', '3');
  c.unsubscribe('chat.a');
  const s = await c.subscribe('chat.a', { from: { offset: 1, epoch: 'e1' } });
  assert.deepEqual(fake.subscribes.at(-1), { request: 3, channel: 'chat.a', recover: true, offset: 1, epoch: 'e1' });
  assert.equal(s.recovered, true);
  assert.deepEqual(s.missed.map((p) => [p.offset, text(p.payload)]), [[2, '2'], [3, '3']]);
  assert.deepEqual(c.channelPosition('chat.a'), { offset: 3, epoch: 'e1' });
  await assert.rejects(c.subscribe('chat.b', { from: /** @type {any} */ ({ offset: -1, epoch: 'e1' }) }), TypeError);
  await c.close();
});

test('new session (resume refused): every subscription made again with recovery; missed publications as events, in order, then resubscribed', async () => {
  const c = await Client.connect(URL, opts());
  await c.subscribe('chat.a');
  await c.subscribe('lobby');
  await c.subscribe('chat.*');
  fake.post('chat.a', 'a1'); // chat.a 1 (and via chat.*)
  fake.post('lobby', 'l1'); // lobby 1
  /** @type {string[]} */
  const order = [];
  c.on('publication', (p) => order.push(`pub ${p.channel} ${p.offset} ${text(p.payload)}`));
  c.on('resubscribed', (r) => order.push(`resubscribed ${r.channel} ${r.recovered} ${r.offset}/${r.epoch} missed ${r.missed}`));
  c.on('newSession', () => order.push('newSession'));
  c.on('reconnected', () => order.push('reconnected'));
  order.length = 0;
  const first = wsOf();
  fake.state.refuse = true;
  first.drop(1006);
  // published while the client was away: its old session is gone, the channel keeps them
  fake.post('chat.a', 'a2');
  fake.post('chat.a', 'a3');
  fake.post('lobby', 'l2');
  const resubscribed = new Promise((resolve) => {
    let n = 0;
    c.on('resubscribed', () => ++n === 3 && resolve(undefined));
  });
  await waitFor(c, 'reconnected', () => true, 2000);
  await resubscribed;
  const second = wsOf();
  assert.notEqual(second, first);
  assert.equal(c.session, 's2');
  const again = second.sent.filter((m) => m.kind.subscribe).map((m) => m.kind.subscribe);
  assert.deepEqual(
    again.map((s) => [s.channel, s.recover, s.offset, s.epoch]),
    [
      ['chat.a', true, 1, 'e1'],
      ['lobby', true, 1, 'e1'],
      ['chat.*', false, 0, ''],
    ],
    'from the last position seen; a pattern has none',
  );
  assert.deepEqual(order, [
    'newSession',
    'pub chat.a 2 a2',
    'pub chat.a 3 a3',
    'resubscribed chat.a true 3/e1 missed 2',
    'pub lobby 2 l2',
    'resubscribed lobby true 2/e1 missed 1',
    'resubscribed chat.* false 0/ missed 0',
    'reconnected',
  ]);
  assert.deepEqual(c.channelPosition('chat.a'), { offset: 3, epoch: 'e1' });
  assert.deepEqual(c.channelPosition('lobby'), { offset: 2, epoch: 'e1' });
  assert.equal(c.lastSeq, 3, 'seqs start over in the new session and count the channel answers');
  // and the subscriptions work on the new session
  order.length = 0;
  fake.post('chat.a', 'a4');
  assert.deepEqual(order, ['pub chat.a 4 a4', 'pub chat.a 4 a4'], 'once per subscription (chat.a and chat.*)');
  await c.close();
});

test('new session: a lost epoch resubscribes with recovered false; a refused re-subscribe is channelError and ends it', async () => {
  const c = await Client.connect(URL, opts());
  await c.subscribe('chat.a');
  await c.subscribe('chat.b');
  fake.post('chat.a', 'a1');
  /** @type {import('../src/index.js').ResubscribedEvent[]} */
  const res = [];
  c.on('resubscribed', (r) => res.push(r));
  /** @type {ChannelError[]} */
  const errors = [];
  c.on('channelError', (e) => errors.push(e));
  fake.state.refuse = true;
  fake.chanState.epoch = 'e2'; // the channels' history was lost
  fake.chanState.refuse.set('chat.b', 503);
  wsOf().drop(1006);
  await waitFor(c, 'reconnected', () => true, 2000); // the fake answers at once: the re-subscribes are done
  assert.equal(res.length, 1);
  assert.equal(res[0].channel, 'chat.a');
  assert.equal(res[0].recovered, false);
  assert.equal(res[0].epoch, 'e2');
  assert.deepEqual(c.channelPosition('chat.a'), { offset: 0, epoch: 'e2' }, 'a new epoch replaces the position');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 503);
  assert.equal(errors[0].channel, 'chat.b');
  assert.deepEqual(c.channels, ['chat.a']);
  await c.close();
});

test('resume: the server keeps the subscriptions; nothing is sent again; publications meanwhile are replayed once, in order', async () => {
  const c = await Client.connect(URL, opts());
  await c.subscribe('chat.a');
  /** @type {string[]} */
  const got = [];
  c.on('publication', (p) => got.push(text(p.payload)));
  /** @type {unknown[]} */
  const res = [];
  c.on('resubscribed', (r) => res.push(r));
  fake.post('chat.a', 'x1');
  const first = wsOf();
  first.drop(1006);
  fake.post('chat.a', 'x2'); // into the session's replay log
  fake.post('chat.a', 'x3');
  const resumed = await waitFor(c, 'resumed', () => true, 2000);
  assert.equal(resumed.replayed, 2);
  await waitFor(c, 'reconnected', () => true, 2000);
  assert.deepEqual(got, ['x1', 'x2', 'x3']);
  assert.deepEqual(kinds(wsOf()), ['resume'], 'no subscribe after a resume');
  assert.equal(res.length, 0);
  assert.deepEqual(c.channelPosition('chat.a'), { offset: 3, epoch: 'e1' });
  await c.close();
});

test('unsubscribe while reconnecting: sent after the Resume; what was on its way is not emitted', async () => {
  const c = await Client.connect(URL, opts());
  await c.subscribe('chat.a');
  await c.subscribe('chat.b');
  /** @type {string[]} */
  const got = [];
  c.on('publication', (p) => got.push(`${p.channel} ${text(p.payload)}`));
  const first = wsOf();
  first.drop(1006);
  assert.equal(c.unsubscribe('chat.a'), false, 'not connected: not sent now');
  fake.post('chat.a', 'a1'); // the server has not heard of the unsubscribe: replayed
  fake.post('chat.b', 'b1');
  await waitFor(c, 'reconnected', () => true, 2000);
  assert.deepEqual(kinds(wsOf()), ['resume', 'unsubscribe'], 'the Resume first');
  assert.deepEqual(got, ['chat.b b1']);
  fake.post('chat.a', 'a2');
  assert.deepEqual(got, ['chat.b b1']);
  assert.deepEqual(c.channels, ['chat.b']);
  await c.close();
});

test('a subscribe in flight when the session is lost is sent again on the new session; close rejects one in flight', async () => {
  const c = await Client.connect(URL, opts());
  // hold the answer back: the fake answers no subscribe while `hold`
  const onMessage = /** @type {NonNullable<typeof fake.server.onMessage>} */ (fake.server.onMessage);
  let hold = true;
  fake.server.onMessage = (ws, msg) => {
    if (hold && msg.kind.subscribe) return;
    onMessage(ws, msg);
  };
  const pending = c.subscribe('chat.slow');
  hold = false;
  fake.state.refuse = true;
  wsOf().drop(1006);
  const s = await pending;
  assert.equal(s.channel, 'chat.slow');
  assert.equal(c.session, 's2');
  assert.deepEqual(c.channels, ['chat.slow']);

  hold = true;
  const never = c.subscribe('chat.never');
  await c.close();
  await assert.rejects(never, ConnectionClosedError);
});
