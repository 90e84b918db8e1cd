// Client-side authentication against a scripted fake WebSocket: what goes
// out first, what each auth close or refusal becomes, and when the client
// stops rather than reconnecting. The real server: auth-integration.test.js.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client, AuthError, HandshakeRefusedError, JoinError, JoinErrorCode, authCloseError, refreshDelay } from '../src/index.js';
import { authPolicy, withToken } from '../src/auth.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { waitFor } from './helpers.js';
import { mockClock } from './clock.js';

const URL = 'ws://127.0.0.1:9/ws';
const TOKENS = ['arena.v2.msgpack'];
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({ tokens: TOKENS, WebSocket: FakeWebSocket, timeoutMs: 1000, ...extra });
/** The kinds of the envelopes a socket sent, in order. @param {FakeWebSocket} ws */
const kinds = (ws) => ws.sent.map((m) => Object.keys(m.kind)[0]);

/**
 * A fake first-message server: `Auth{token}` with a token `user` or
 * `user@<expiresAt>` is answered `Authenticated`; `bad…` closes 4001; a
 * refresh for another user closes 4003; anything before `Auth` closes 4001.
 * Resume is answered `Resumed` for the token `rt`; creates are answered.
 */
function fakeAuthServer() {
  /** @type {import('./fake-ws.js').FakeServer} */
  const server = {
    accept: (p) => p[0],
    welcome: () => ({ session: 'sess', resumeToken: 'rt' }),
    onMessage(ws, msg) {
      const [kind] = Object.keys(msg.kind);
      const m = msg.kind[kind];
      const state = /** @type {any} */ (ws);
      if (kind === 'auth') {
        const [user, exp] = String(m.token).split('@');
        if (user.startsWith('bad')) return ws.drop(4001, 'invalid credential: bad signature');
        if (state.user && state.user !== user) return ws.drop(4003, 'a refreshed credential must be for the same user');
        state.user = user;
        ws.push({ kind: { authenticated: { user, expiresAt: Number(exp ?? 0) } } });
        return;
      }
      if (!state.user) return ws.drop(4001, 'authenticate first: the first message must be Auth');
      if (kind === 'resume') ws.push({ kind: { resumed: { session: 'sess', resumeToken: 'rt2', replayed: 0, resync: false, rooms: [] } } });
      if (kind === 'create') ws.push({ seq: 1, kind: { joinError: { request: m.request, code: 9, reason: 'ann may not play' } } });
      if (kind === 'ping') ws.push({ kind: { pong: { clientTime: m.clientTime, serverTime: 1 } } });
    },
  };
  return server;
}

beforeEach(() => resetFake(fakeAuthServer()));

test('auth option: checked before any traffic; defaults to message mode', () => {
  assert.deepEqual(authPolicy({ token: 't' }), { token: 't', mode: 'message', autoRefresh: true, refreshBeforeMs: 30000 });
  assert.equal(authPolicy(undefined), null);
  assert.throws(() => new Client(URL, opts({ auth: { token: '' } })), /auth\.token/);
  assert.throws(() => new Client(URL, opts({ auth: /** @type {any} */ ({ token: 't', mode: 'header' }) })), /auth\.mode/);
  assert.throws(() => new Client(URL, opts({ auth: { token: 't', refreshBeforeMs: -1 } })), /refreshBeforeMs/);
  assert.equal(FakeWebSocket.sockets.length, 0);
  assert.equal(withToken('ws://h:1/ws?x=1', 'a.b+c'), 'ws://h:1/ws?x=1&token=a.b%2Bc');
});

test('closes and refusals are classified: only auth ones are AuthErrors', () => {
  const k = (/** @type {number} */ code, /** @type {string} */ reason, ctx = {}) => authCloseError(code, reason, ctx)?.kind ?? null;
  assert.equal(k(4001, 'invalid credential'), 'unauthorized');
  assert.equal(k(4003, 'too many sessions'), 'forbidden');
  assert.equal(k(4002, 'no Auth message within the authentication deadline'), 'auth-timeout');
  assert.equal(k(4002, 'whatever', { expectAuth: true }), 'auth-timeout');
  assert.equal(k(4002, 'session timed out'), null);
  assert.equal(k(1008, 'credential expired; send a fresh Auth before it does'), 'expired');
  assert.equal(k(1008, '', { expiresAt: 1000, now: 5000 }), 'expired', 'the known expiry passed');
  assert.equal(k(1008, 'rate limit exceeded'), null);
  assert.equal(k(1008, 'nothing received for 15 s', { expiresAt: 99_000, now: 5000 }), null);
  assert.equal(k(1006, ''), null);
  assert.equal(authCloseError(4001, 'x')?.fatal, true);
  assert.equal(authCloseError(4002, 'auth')?.fatal, false);
  // Refresh halfway through a short credential, refreshBeforeMs ahead of a long one.
  assert.equal(refreshDelay(10_000, 0, 30_000), 5000);
  assert.equal(refreshDelay(600_000, 0, 30_000), 570_000);
  assert.equal(refreshDelay(0, 0, 30_000), null, 'never expires');
  assert.equal(refreshDelay(500, 0, 30_000), null, 'too late');
});

test('message mode: Auth is the first message; connect resolves after Authenticated; FORBIDDEN is a typed JoinError', async () => {
  let calls = 0;
  const c = await Client.connect(URL, opts({ auth: { token: () => `ann@${Date.now() + 60_000}`, autoRefresh: false } }));
  calls++;
  assert.equal(c.status, 'open');
  assert.equal(c.user, 'ann');
  assert.ok(c.authExpiresAt > Date.now());
  const ws = FakeWebSocket.sockets[0];
  assert.ok(!ws.url.includes('token='), 'no token in the URL');
  assert.deepEqual(kinds(ws), ['auth']);
  await assert.rejects(c.create('arena'), (e) => e instanceof JoinError && e.code === JoinErrorCode.FORBIDDEN && e.codeName === 'FORBIDDEN');
  assert.equal(calls, 1);
  await c.close();
});

test('query mode: the token rides on the URL, and an Auth tells the user; HTTP 401 is an AuthError', async () => {
  const c = await Client.connect(URL, opts({ auth: { token: 'ann', mode: 'query' } }));
  assert.match(FakeWebSocket.sockets[0].url, /\?token=ann$/);
  assert.equal(c.user, 'ann');
  await c.close();
  resetFake({ accept: () => 401 });
  await assert.rejects(Client.connect(URL, opts({ auth: { token: 'old', mode: 'query' } })), (e) => {
    assert.ok(e instanceof AuthError, String(e));
    assert.equal(e.kind, 'unauthorized');
    assert.equal(e.status, 401);
    assert.equal(e.fatal, true);
    assert.ok(!e.message.includes('old'), 'the token is not in the message');
    return true;
  });
  assert.equal(FakeWebSocket.sockets.length, 1, 'a 401 is not tried again on the same URL list');
});

test('HTTP 403, 429 and 503 refusals are typed HandshakeRefusedErrors', async () => {
  const info = { app: 'arena', protocols: TOKENS, versions: [2] };
  const fetch = async () => ({ ok: true, status: 200, json: async () => info });
  for (const [status, kind] of /** @type {const} */ ([[403, 'forbidden'], [429, 'too-many'], [503, 'unavailable']])) {
    resetFake({ accept: () => status });
    await assert.rejects(Client.connect(URL, opts({ fetch })), (e) => {
      assert.ok(e instanceof HandshakeRefusedError, String(e));
      assert.equal(e.kind, kind);
      assert.equal(e.status, status);
      assert.match(e.message, new RegExp(`HTTP ${status}`));
      return true;
    });
  }
});

test('a refused first Auth rejects connect with a fatal AuthError', async () => {
  await assert.rejects(Client.connect(URL, opts({ auth: { token: 'bad' } })), (e) => {
    assert.ok(e instanceof AuthError, String(e));
    assert.equal(e.kind, 'unauthorized');
    assert.equal(e.code, 4001);
    assert.match(e.message, /bad signature/);
    return true;
  });
  await assert.rejects(Client.connect(URL, opts({ auth: { token: () => { throw new Error('login down'); } } })), (e) => {
    assert.ok(e instanceof AuthError && e.kind === 'token' && /login down/.test(e.message), String(e));
    return true;
  });
  assert.equal(FakeWebSocket.sockets.length, 1, 'no socket without a token');
});

test('a reconnect takes a fresh token and authenticates before Resume', async () => {
  let n = 0;
  const token = () => `ann@${Date.now() + 60_000 + ++n}`;
  const c = await Client.connect(URL, opts({ auth: { token, autoRefresh: false }, reconnect: { baseMs: 1, capMs: 5, maxTries: 3 } }));
  /** @type {import('../src/types.js').AuthInfo[]} */
  const authed = [];
  c.on('authenticated', (a) => authed.push(a));
  const back = waitFor(c, 'reconnected', () => true, 2000);
  FakeWebSocket.sockets[0].drop(1006);
  const r = await back;
  assert.equal(r.resumed, true);
  assert.equal(n, 2, 'the token function is called for every connection');
  assert.deepEqual(kinds(FakeWebSocket.sockets[1]), ['auth', 'resume']);
  assert.equal(FakeWebSocket.sockets[1].sent[0].kind.auth.token.split('@')[1], String(c.authExpiresAt));
  assert.equal(authed.length, 1);
  await c.close();
});

test('a reconnect whose Auth is refused stops: authError, then close 4001, no more attempts', async (t) => {
  const clock = mockClock(t);
  let n = 0;
  const c = await clock.run(Client.connect(URL, opts({ auth: { token: () => (++n === 1 ? 'ann' : 'bad-expired') }, reconnect: { baseMs: 1, capMs: 5, maxTries: 5 } })));
  /** @type {string[]} */
  const seen = [];
  c.on('reconnecting', (e) => seen.push(`reconnecting ${e.attempt}`));
  c.on('authError', (e) => seen.push(`authError ${e.kind} ${e.code}`));
  c.on('close', (e) => seen.push(`close ${e.code}`));
  const closed = waitFor(c, 'close', () => true, 2000);
  FakeWebSocket.sockets[0].drop(1006);
  await clock.run(closed);
  await clock.advance(10_000); // far past any reconnect delay
  assert.deepEqual(seen, ['reconnecting 1', 'authError unauthorized 4001', 'close 4001']);
  assert.equal(FakeWebSocket.sockets.length, 2);
});

test('refreshToken: a fresh Auth resolves with Authenticated; another user closes 4003 and is not retried', async () => {
  const c = await Client.connect(URL, opts({ auth: { token: 'ann' }, reconnect: { baseMs: 1, capMs: 5, maxTries: 5 } }));
  const info = await c.refreshToken('ann@4102444800000');
  assert.deepEqual(info, { user: 'ann', expiresAt: 4102444800000 });
  assert.equal(c.authExpiresAt, 4102444800000);
  let reconnecting = 0;
  c.on('reconnecting', () => reconnecting++);
  const authError = waitFor(c, 'authError', () => true, 1000);
  const closed = waitFor(c, 'close', () => true, 1000);
  await assert.rejects(c.refreshToken('bob'), (e) => e instanceof AuthError && e.kind === 'forbidden' && e.code === 4003);
  assert.equal((await authError).kind, 'forbidden');
  assert.equal((await closed).code, 4003);
  assert.equal(reconnecting, 0);
  await assert.rejects(c.refreshToken('ann'), /not connected/);
});

test('a token function refreshes by itself before the credential expires', async (t) => {
  const clock = mockClock(t);
  let n = 0;
  const token = () => {
    n++;
    return `ann@${Date.now() + 60_000}`;
  };
  const c = await clock.run(Client.connect(URL, opts({ auth: { token, refreshBeforeMs: 20_000 } })));
  const expiresAt = c.authExpiresAt;
  const refreshed = await clock.run(waitFor(c, 'authenticated', () => true, 60_000), 60_000);
  assert.equal(expiresAt - Date.now(), 20_000, 'refreshBeforeMs before the expiry');
  assert.equal(refreshed.user, 'ann');
  assert.equal(n, 2, 'the function was called again');
  assert.deepEqual(kinds(FakeWebSocket.sockets[0]).slice(0, 2), ['auth', 'auth']);
  // a credential short of time is refreshed halfway through what is left
  const half = await clock.run(c.refreshToken(`ann@${Date.now() + 1500}`));
  const at = Date.now();
  await clock.run(waitFor(c, 'authenticated', () => true, 1500));
  assert.equal(Date.now() - at, (half.expiresAt - at) / 2);
  await clock.run(c.close());
  const sent = FakeWebSocket.sockets[0].sent.length;
  await clock.advance(120_000);
  assert.equal(FakeWebSocket.sockets[0].sent.length, sent, 'no refresh after close');
});

test('1008 for an expired credential is an authError and ends the client', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ auth: { token: 'ann' }, reconnect: { baseMs: 1, capMs: 5, maxTries: 5 } })));
  let reconnecting = 0;
  c.on('reconnecting', () => reconnecting++);
  const authError = waitFor(c, 'authError', () => true, 1000);
  const closed = waitFor(c, 'close', () => true, 1000);
  FakeWebSocket.sockets[0].drop(1008, 'credential expired; send a fresh Auth before it does');
  const e = await clock.run(authError);
  assert.equal(e.kind, 'expired');
  assert.equal(e.fatal, true);
  assert.equal((await clock.run(closed)).code, 1008);
  await clock.advance(10_000);
  assert.equal(reconnecting, 0);
});
