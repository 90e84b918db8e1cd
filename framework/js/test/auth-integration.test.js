// Client-side authentication against the real arena server (ARENA_BIN) with
// HS256 JWT auth, in both server modes: tokens on the URL (upgrade mode) and
// the Auth message (first-message mode); refreshes, expiry, refusals, and a
// reconnect through a cut link (test/proxy.js) that re-authenticates and
// resumes the same session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { WebSocket } from 'ws';
import { Client, AuthError, HandshakeRefusedError } from '../src/index.js';
import { startArena, options, waitFor, sleep } from './helpers.js';
import { startProxy } from './proxy.js';

const SECRET = 'js sdk test secret';
const reconnect = { baseMs: 50, capMs: 300, maxTries: 10 };

/** @param {object} v */
const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

/**
 * An HS256 JWT for `sub`, expiring in `secs` seconds (whole seconds, as JWT
 * `exp` is: it lasts between secs-1 and secs).
 * @param {string} sub
 * @param {number} secs
 * @param {string} [secret]
 */
function jwt(sub, secs, secret = SECRET) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub, exp: Math.floor(Date.now() / 1000) + secs })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

/** @type {Array<() => Promise<unknown> | unknown>} */
const cleanups = [];
/** @type {import('./helpers.js').Arena} */
let upgrade;
/** @type {import('./helpers.js').Arena} */
let firstMessage;

before(async () => {
  const common = ['--jwt-hs256-secret', SECRET, '--jwt-leeway', '0'];
  [upgrade, firstMessage] = await Promise.all([
    startArena(0, 10_000, [...common, '--auth-mode', 'upgrade']),
    startArena(0, 10_000, [...common, '--auth-mode', 'first-message', '--auth-deadline', '1', '--reconnect-window', '10']),
  ]);
});

after(async () => {
  for (const f of cleanups.reverse()) await f();
  await Promise.all([upgrade?.kill(), firstMessage?.kill()]);
});

/** @param {string} url @param {Partial<import('../src/client.js').ConnectOptions>} extra */
async function connect(url, extra) {
  const c = await Client.connect(url, options({ tokens: ['arena.v2.msgpack'], ...extra }));
  cleanups.push(() => c.close());
  return c;
}

test('upgrade mode: a query token gets in; none is a typed 401; a bad one too', { timeout: 15_000 }, async () => {
  const c = await connect(upgrade.url, { auth: { token: jwt('ann', 60), mode: 'query' } });
  assert.equal(c.user, 'ann', 'Authenticated.user');
  assert.ok(c.authExpiresAt > Date.now() + 50_000);
  const j = await c.joinOrCreate('arena', { name: 'ann' });
  await waitFor(c, 'state', (s) => s.room === j.room);
  for (const auth of [undefined, { token: jwt('ann', 60, 'not the secret'), mode: /** @type {const} */ ('query') }]) {
    await assert.rejects(Client.connect(upgrade.url, options({ auth })), (e) => {
      assert.ok(e instanceof AuthError, String(e));
      assert.equal(e.kind, 'unauthorized');
      assert.equal(e.status, 401);
      assert.equal(e.fatal, true);
      return true;
    });
  }
});

test('upgrade mode: 403 for a foreign origin and 429 past the per-address cap are typed refusals', { timeout: 15_000 }, async () => {
  const strict = await startArena(0, 10_000, ['--allow-origin', 'https://game.example', '--max-connections-per-ip', '1']);
  cleanups.push(() => strict.kill());
  class Foreign extends WebSocket {
    /** @param {string} url @param {string | string[]} [protocols] */
    constructor(url, protocols) {
      super(url, protocols, { origin: 'https://evil.example' });
    }
  }
  await assert.rejects(Client.connect(strict.url, options({ WebSocket: Foreign })), (e) => {
    assert.ok(e instanceof HandshakeRefusedError, String(e));
    assert.deepEqual([e.kind, e.status], ['forbidden', 403]);
    return true;
  });
  await connect(strict.url, {});
  await assert.rejects(Client.connect(strict.url, options()), (e) => {
    assert.ok(e instanceof HandshakeRefusedError, String(e));
    assert.deepEqual([e.kind, e.status], ['too-many', 429]);
    return true;
  });
});

test('message mode: Auth first, then joins work and the server knows the user', { timeout: 15_000 }, async () => {
  /** @type {string[]} */
  const seen = [];
  const c = await connect(firstMessage.url, { auth: { token: () => jwt('bea', 60) } });
  c.on('authenticated', (a) => seen.push(a.user));
  assert.equal(c.user, 'bea');
  const j = await c.create('arena', { name: 'bea' });
  await waitFor(c, 'state', (s) => s.room === j.room);
  const info = await c.refreshToken(jwt('bea', 120));
  assert.equal(info.user, 'bea');
  assert.ok(info.expiresAt > Date.now() + 100_000);
  assert.deepEqual(seen, ['bea']);
  assert.ok((await c.ping()) >= 0);
});

test('message mode: a client that never authenticates is closed 4002, as a typed authError', { timeout: 15_000 }, async () => {
  const c = await connect(firstMessage.url, {});
  const authError = waitFor(c, 'authError', () => true, 4000);
  const closed = waitFor(c, 'close', () => true, 4000);
  await assert.rejects(c.joinOrCreate('arena'), /connection closed \(4001/, 'a join before Auth is refused');
  const e = await authError;
  assert.ok(e instanceof AuthError);
  assert.equal(e.kind, 'unauthorized', 'the join was not an Auth: 4001');
  assert.equal((await closed).code, 4001);
  const silent = await connect(firstMessage.url, {});
  const deadline = await waitFor(silent, 'authError', () => true, 4000);
  assert.deepEqual([deadline.kind, deadline.code], ['auth-timeout', 4002]);
});

test('message mode: a token function refreshes before expiry and the connection stays', { timeout: 15_000 }, async () => {
  let calls = 0;
  const c = await connect(firstMessage.url, {
    auth: {
      token: async () => {
        calls++;
        return jwt('cat', 3);
      },
    },
  });
  const firstExpiry = c.authExpiresAt;
  let refreshed = 0;
  c.on('authenticated', () => refreshed++);
  let closed = null;
  c.on('close', (e) => (closed = e));
  await sleep(4500); // past the first token's expiry
  assert.equal(closed, null);
  assert.ok(refreshed >= 2 && calls >= 3, `refreshed ${refreshed}, token calls ${calls}`);
  assert.ok(c.authExpiresAt > firstExpiry);
  assert.ok((await c.ping()) >= 0);
});

test('message mode: without a refresh the credential lapses: 1008 surfaced as expired, not retried', { timeout: 15_000 }, async () => {
  const c = await connect(firstMessage.url, { auth: { token: jwt('dan', 2) }, reconnect });
  /** @type {string[]} */
  const seen = [];
  c.on('reconnecting', () => seen.push('reconnecting'));
  c.on('authError', (e) => seen.push(`authError ${e.kind} ${e.code}`));
  c.on('close', (e) => seen.push(`close ${e.code}`));
  const closed = waitFor(c, 'close', () => true, 5000);
  assert.match((await closed).reason, /expired/);
  await sleep(300);
  assert.deepEqual(seen, ['authError expired 1008', 'close 1008']);
});

test('message mode: a refresh for another user closes 4003 and is not retried', { timeout: 15_000 }, async () => {
  const c = await connect(firstMessage.url, { auth: { token: jwt('eve', 60) }, reconnect });
  let reconnecting = 0;
  c.on('reconnecting', () => reconnecting++);
  const closed = waitFor(c, 'close', () => true, 5000);
  await assert.rejects(c.refreshToken(jwt('mallory', 60)), (e) => e instanceof AuthError && e.kind === 'forbidden');
  assert.equal((await closed).code, 4003);
  await sleep(300);
  assert.equal(reconnecting, 0);
});

test('message mode: a cut link reconnects, authenticates again (fresh token) and resumes the same session', { timeout: 20_000 }, async () => {
  const proxy = await startProxy(firstMessage.port);
  cleanups.push(() => proxy.close());
  let calls = 0;
  let expired = false;
  const token = () => {
    calls++;
    return expired ? jwt('fay', -5) : jwt('fay', 60);
  };
  const c = await connect(proxy.url(), { auth: { token, autoRefresh: false }, reconnect });
  const j = await c.create('arena', { name: 'fay' });
  await waitFor(c, 'state', (s) => s.room === j.room);
  const session = c.session;
  /** @type {string[]} */
  const seen = [];
  c.on('authenticated', (a) => seen.push(`authenticated ${a.user}`));
  c.on('resumed', () => seen.push('resumed'));
  c.on('newSession', () => seen.push('newSession'));
  const back = waitFor(c, 'reconnected', () => true, 10_000);
  assert.equal(proxy.cut(), 1);
  const r = await back;
  assert.equal(r.resumed, true);
  assert.deepEqual(r.rooms.map((x) => x.room), [j.room]);
  assert.equal(c.session, session, 'the same session');
  assert.equal(calls, 2, 'the token function was asked again');
  assert.deepEqual(seen, ['authenticated fay', 'resumed']);
  await waitFor(c, 'state', (s) => s.room === j.room);

  // The token source now gives an expired token: the next reconnect is
  // refused (4001) and the client stops instead of trying again and again.
  expired = true;
  /** @type {string[]} */
  const after = [];
  c.on('reconnecting', (e) => after.push(`reconnecting ${e.attempt}`));
  c.on('authError', (e) => after.push(`authError ${e.kind} ${e.code}`));
  const closed = waitFor(c, 'close', () => true, 10_000);
  proxy.cut();
  assert.equal((await closed).code, 4001);
  assert.deepEqual(after, ['reconnecting 1', 'authError unauthorized 4001']);
});
