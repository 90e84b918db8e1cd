// End-to-end: a cluster node dies under a browser mid-game and the page
// plays on. A real redis-server on a free port and two real arena nodes on
// it (a, b; lease 3000 ms). In real headless Chromium the page is served by
// node b (so killing a leaves the page's origin alone) and plays on node a,
// with `?servers=<a>,<b>`. Node a is killed with SIGKILL: the HUD must show
// `reconnecting…`, then `resumed` within the lease and 5 s, on node b, in
// the same session and seat (never a new session), and the game must go on:
// states arrive, the tick advances, inputs are acknowledged.
//
//   ARENA_BIN   server binary (default <repo>/target/debug/arena)
//   CHROMIUM    browser       (default /usr/bin/chromium)
//   Skipped when redis-server is not installed. Screenshot:
//   artifacts/e2e/arena-failover.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, httpGet, sleep, spawnArena, tcpUp, until } from './e2e-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const ARENA_BIN = process.env.ARENA_BIN || join(REPO, 'target/debug/arena');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'artifacts/e2e');
const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;
const LEASE_MS = 3000;

let redis;
let nodeA;
let nodeB;
let addrA;
let addrB;
let context;
let userDataDir;
const pageErrors = [];
const warnings = [];

const watchdog = setTimeout(() => {
  console.error('e2e-failover: over 50 s; killing the servers and browser');
  for (const p of [nodeA, nodeB, redis]) if (p) p.kill('SIGKILL');
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}, 50_000);
watchdog.unref();

before(async () => {
  if (!HAVE_REDIS) return;
  assert.ok(existsSync(ARENA_BIN), `no server binary at ${ARENA_BIN}: cargo build -p arena`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  await until('redis-server up', () => tcpUp(port));
  const cluster = ['--redis', `redis://127.0.0.1:${port}`, '--lease-ms', String(LEASE_MS)];
  // b first: it serves the page, and a must allow b's origin (the page
  // plays on a from a page of b's).
  const b = spawnArena(ARENA_BIN, [...cluster, '--node-id', 'b']);
  nodeB = b.child;
  addrB = await b.addr;
  const a = spawnArena(ARENA_BIN, [...cluster, '--node-id', 'a', '--allow-origin', 'self', '--allow-origin', `http://${addrB}`]);
  nodeA = a.child;
  addrA = await a.addr;
  userDataDir = mkdtempSync(join(tmpdir(), 'e2e-failover-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 720 },
    timeout: 20_000,
  });
  context.setDefaultTimeout(10_000);
});

after(async () => {
  clearTimeout(watchdog);
  if (context) await context.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  for (const p of [nodeA, nodeB]) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
  if (redis) redis.kill('SIGKILL');
});

const view = (page) =>
  page.evaluate(() => {
    const a = window.__arena;
    return {
      connected: a.connected,
      servers: [...a.servers],
      url: a.url,
      session: a.session,
      room: a.room,
      myId: a.myId,
      tick: a.tick,
      players: a.players.map((p) => ({ id: p.id, name: p.name })),
      seq: a.seq,
      ack: a.ack,
      statuses: [...a.statuses],
      resumes: [...a.resumes],
      hud: document.getElementById('hud-status').textContent,
      hudServer: document.getElementById('hud-server').textContent,
      hudTick: Number(document.getElementById('hud-tick').textContent),
    };
  });

test('node a is killed mid-game: the page resumes its session on node b and plays on', { skip: !HAVE_REDIS && 'redis-server is not installed', timeout: 40_000 }, async (t) => {
  const urlA = `ws://${addrA}/ws`;
  const urlB = `ws://${addrB}/ws`;
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    if (m.type() === 'warning') warnings.push(m.text());
  });
  // An http:// entry in the list is ignored with a warning; a and b remain.
  await page.goto(`http://${addrB}/?name=kim&servers=${urlA},http://${addrA}/ws,${urlB}`);

  const start = await until('the page playing on node a', async () => {
    const v = await view(page);
    return v.connected && v.hud === 'connected' && v.room && v.myId && v.tick > 0 ? v : null;
  }, 10_000);
  assert.deepEqual(start.servers, [urlA, urlB]);
  assert.ok(warnings.some((w) => w.includes(`ignored: http://${addrA}/ws`)), JSON.stringify(warnings));
  assert.equal(start.url, urlA, 'the page plays on the first URL of ?servers=');
  assert.equal(start.hudServer, addrA);
  assert.equal(start.players.find((p) => p.id === start.myId)?.name, 'kim');
  // b knows a (a resume with a's token is for b to place) and lists the
  // room; a's room has saved a snapshot or two meanwhile.
  await until('b to see a', async () => /^playhouse_cluster_nodes 2$/m.test((await httpGet(`http://${addrB}/metrics`)).body) || null, 5000);
  await until('the room listed on node b', async () => (await httpGet(`http://${addrB}/rooms`)).body.includes(start.room) || null, 5000);
  await sleep(1500);
  const before = await view(page);
  assert.equal(before.hud, 'connected');
  assert.ok(before.tick > start.tick, 'states arrive');

  nodeA.kill('SIGKILL');
  const killedAt = Date.now();
  const reconnecting = await until('the HUD to show reconnecting…', async () => {
    const v = await view(page);
    return v.hud === 'reconnecting…' ? v : null;
  }, 3000, 20);
  const reconnectingMs = Date.now() - killedAt;
  assert.equal(reconnecting.connected, false);
  const resumed = await until('the HUD to show resumed', async () => {
    const v = await view(page);
    return v.hud === 'resumed' ? v : null;
  }, LEASE_MS + 5000, 20);
  const resumedMs = Date.now() - killedAt;

  // The same session and seat, now on b: a resume, not a new player.
  assert.equal(resumed.connected, true);
  assert.equal(resumed.url, urlB);
  assert.equal(resumed.hudServer, addrB);
  assert.equal(resumed.session, start.session, 'the same session');
  assert.equal(resumed.room, start.room, 'the same room');
  assert.equal(resumed.myId, start.myId, 'the same seat');
  assert.equal(resumed.resumes.length, 1, JSON.stringify(resumed.resumes));
  assert.equal(resumed.resumes[0].session, start.session);
  assert.equal(resumed.resumes[0].resync, false, 'no resync: the missed reliable messages were replayed');
  const after = resumed.statuses.slice(before.statuses.length);
  assert.ok(!after.some((s) => s === 'new session' || s === 'disconnected' || s.startsWith('moved')), JSON.stringify(after));
  assert.equal(after[0], 'reconnecting…', JSON.stringify(after));
  assert.equal(after.at(-1), 'resumed', JSON.stringify(after));

  // The page plays on: states from b, the tick and the HUD advance, the
  // player is still kim, and inputs are acknowledged by b.
  const going = await until('states from node b', async () => {
    const v = await view(page);
    return v.tick >= before.tick + 30 && v.hudTick > before.tick ? v : null;
  }, 5000);
  const statesMs = Date.now() - killedAt;
  assert.equal(going.players.find((p) => p.id === start.myId)?.name, 'kim');
  assert.equal(going.hud, 'resumed');
  const seq0 = going.seq;
  await page.keyboard.down('ArrowRight');
  await sleep(400);
  await page.keyboard.up('ArrowRight');
  const acked = await until('the inputs to be acked on node b', async () => {
    const v = await view(page);
    return v.seq > seq0 && v.ack === v.seq ? v : null;
  }, 5000);
  assert.equal(acked.url, urlB);
  t.diagnostic(
    `kill -9 of a (lease ${LEASE_MS} ms): HUD reconnecting… after ${reconnectingMs} ms, resumed on b after ${resumedMs} ms, ` +
      `tick past the pre-kill tick + 30 after ${statesMs} ms; statuses ${JSON.stringify(after)}; resume ${JSON.stringify(resumed.resumes[0])}`,
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'arena-failover.png') });
});

test('no page errors', { skip: !HAVE_REDIS && 'redis-server is not installed' }, () => {
  // Chromium logs the socket's failure when a reconnect finds node a gone
  // (the page's own origin, node b, is never refused).
  const real = pageErrors.filter((e) => !/WebSocket connection to .* failed|net::ERR_CONNECTION_REFUSED/.test(e));
  assert.deepEqual(real, []);
});
