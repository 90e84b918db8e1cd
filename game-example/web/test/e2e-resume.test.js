// End-to-end: session resume in the browser. The built game runs in real
// headless Chromium (playwright-core, /usr/bin/chromium) and reaches the real
// arena server through a TCP proxy (framework/js/test/proxy.js) that can
// lose what the server sends and reset the connection. A Node client joins
// and leaves the page's room in a loop meanwhile, so the room keeps sending
// reliable events. After each cut the page must resume the same session and
// seat, with every event exactly once and in order.
//
//   ARENA_BIN   server binary (default <repo>/target/debug/arena)
//   CHROMIUM    browser       (default /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { startProxy } from '../../../framework/js/test/proxy.js';
import { sleep, spawnArena, until } from './e2e-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const ARENA_BIN = process.env.ARENA_BIN || join(REPO, 'target/debug/arena');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'artifacts/e2e');

// The whole file is bounded: past 45 s, kill what it started and fail.
const WATCHDOG_MS = Number(process.env.E2E_WATCHDOG_MS) || 45_000;
let arena;
let context;
let userDataDir;
const watchdog = setTimeout(() => {
  console.error(`e2e-resume: over ${WATCHDOG_MS / 1000} s; killing the server and browser`);
  if (arena) arena.kill('SIGKILL');
  if (context) context.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

/** A Node client with the SDK, straight to the server (not through the proxy). */
async function nodeClient(addr) {
  const { Client } = await import('playhouse-client');
  const read = (p) => readFileSync(join(REPO, p), 'utf8');
  const WebSocket = globalThis.WebSocket ?? createRequire(join(REPO, 'framework/js/package.json'))('ws');
  return Client.connect(`ws://${addr}/ws`, {
    WebSocket,
    tokens: ['arena.v2.msgpack'],
    protos: [read('game-example/schemas/arena/v1.proto'), read('game-example/schemas/arena/v2.proto')], // the envelope ships with the SDK
    game: { package: 'arena', input: 'Input', output: 'Output' },
    timeoutMs: 5000,
  });
}

let addr;
let proxy;
let page;
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(ARENA_BIN), `no server binary at ${ARENA_BIN}: cargo build -p arena`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
  const started = spawnArena(ARENA_BIN);
  arena = started.child;
  addr = await started.addr;
  proxy = await startProxy(Number(addr.slice(addr.lastIndexOf(':') + 1)));
  userDataDir = mkdtempSync(join(tmpdir(), 'arena-e2e-resume-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 720 },
    timeout: 20_000,
  });
  context.setDefaultTimeout(10_000);
  page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  // The page and its WebSocket both come through the proxy.
  await page.goto(`http://127.0.0.1:${proxy.port}/?token=arena.v2.proto&name=resumer`);
});

after(async () => {
  clearTimeout(watchdog);
  if (context) await context.close().catch(() => {});
  if (proxy) await proxy.close();
  if (arena && arena.exitCode === null && arena.signalCode === null) {
    arena.kill('SIGTERM');
    const gone = await Promise.race([new Promise((r) => arena.once('exit', () => r(true))), sleep(2000).then(() => false)]);
    if (!gone) arena.kill('SIGKILL');
  }
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

const view = () =>
  page.evaluate(() => {
    const a = window.__arena;
    return {
      connected: a.connected,
      room: a.room,
      myId: a.myId,
      seq: a.seq,
      ack: a.ack,
      status: a.status,
      statuses: [...a.statuses],
      resumes: [...a.resumes],
      messages: [...a.messages],
      hud: document.getElementById('hud-status').textContent,
    };
  });

test('the page resumes after its connection is cut mid-game: same seat, every event once and in order', { timeout: 40_000 }, async (t) => {
  const start = await until('the page to join', async () => {
    const v = await view();
    return v.connected && v.room && v.myId ? v : null;
  }, 10_000);

  // A second player joins and leaves the page's room in a loop: each join and
  // leave is a reliable event (`cN joined`, `cN left`) for the page.
  const churner = await nodeClient(addr);
  let cycles = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await churner.join(start.room, { name: `c${cycles + 1}` });
      await churner.leave(start.room);
      cycles += 1;
      await sleep(20);
    }
  })();
  const churnSeen = (v) => v.messages.filter((m) => /^c\d+ (joined|left)$/.test(m.text)).length;
  try {
    await until('churn events on the page', async () => churnSeen(await view()) >= 10 || null, 5000);

    // Cut 1: the link dies while the server keeps writing (what it sends is
    // lost in the proxy), then the TCP connection is reset both ways.
    assert.ok(proxy.freeze() >= 1, 'the page has a connection through the proxy');
    await sleep(400);
    assert.ok(proxy.dropped() > 0);
    proxy.cut();
    await until('the first resume', async () => ((await view()).resumes.length === 1 ? true : null), 10_000);
    const mid = churnSeen(await view());
    await until('more events', async () => churnSeen(await view()) >= mid + 10 || null, 5000);

    // Cut 2: a plain reset.
    proxy.cut();
    await until('the second resume', async () => ((await view()).resumes.length === 2 ? true : null), 10_000);
    const mid2 = churnSeen(await view());
    await until('more events', async () => churnSeen(await view()) >= mid2 + 10 || null, 5000);
  } finally {
    stop = true;
    await loop;
  }
  const n = cycles;
  await churner.close();
  const v = await until(`the page to have c${n} left`, async () => {
    const x = await view();
    return x.messages.some((m) => m.text === `c${n} left`) ? x : null;
  }, 5000);

  const churned = v.messages.map((m) => m.text).filter((text) => /^c\d+ (joined|left)$/.test(text));
  const want = Array.from({ length: n }, (_, i) => [`c${i + 1} joined`, `c${i + 1} left`]).flat();
  assert.deepEqual(churned, want, 'every churn event exactly once, in order');
  for (let i = 1; i < v.messages.length; i++) {
    assert.equal(v.messages[i].seq, v.messages[i - 1].seq + 1, `room seq at ${i}: ${JSON.stringify(v.messages.slice(Math.max(0, i - 2), i + 1))}`);
  }
  assert.equal(v.resumes.length, 2);
  assert.equal(v.resumes[0].session, v.resumes[1].session);
  assert.ok(v.resumes.every((r) => r.resync === false));
  assert.ok(v.resumes[0].replayed > 0, `the first resume replayed what the frozen link lost: ${JSON.stringify(v.resumes)}`);
  assert.equal(v.room, start.room, 'the same room');
  assert.equal(v.myId, start.myId, 'the same seat');
  // the HUD showed the reconnect and the resume, and never a new session
  // (repeats collapsed: a retried attempt shows reconnecting… again)
  const shown = v.statuses.filter((s, i) => (s === 'reconnecting…' || s === 'resumed') && s !== v.statuses[i - 1]);
  assert.deepEqual(shown, ['reconnecting…', 'resumed', 'reconnecting…', 'resumed']);
  assert.ok(!v.statuses.includes('new session'), JSON.stringify(v.statuses));
  assert.equal(v.hud, 'resumed');
  assert.equal(v.connected, true);
  t.diagnostic(`${n} join/leave cycles, ${v.messages.length} reliable messages, resumes ${JSON.stringify(v.resumes)}`);

  // The seat is live: inputs go on from the same seq and the server acks them.
  const seq0 = v.seq;
  await page.keyboard.down('ArrowRight');
  await sleep(400);
  await page.keyboard.up('ArrowRight');
  const acked = await until('the inputs to be acked', async () => {
    const x = await view();
    return x.seq > seq0 && x.ack === x.seq ? x : null;
  }, 5000);
  assert.ok(acked.ack > seq0);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'arena-resumed.png') });
});

test('no page errors', () => {
  // Chromium logs the socket's failure when the proxy resets it.
  const real = pageErrors.filter((e) => !/WebSocket connection to .* failed/.test(e));
  assert.deepEqual(real, []);
});
