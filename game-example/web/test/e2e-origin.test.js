// End-to-end: cross-site WebSocket hijacking is refused. In real headless
// Chromium, a page from a foreign origin (a small Node HTTP server on
// another port of 127.0.0.1) tries to open a game socket to the real arena
// server: the upgrade is refused with 403 and the socket never opens. The
// game's own page (served by arena) opens one on the same server.
//
//   ARENA_BIN   server binary (default <repo>/target/debug/arena)
//   CHROMIUM    browser       (default /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { spawnArena } from './e2e-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const ARENA_BIN = process.env.ARENA_BIN || join(REPO, 'target/debug/arena');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let arena;
let foreign;
let context;
let userDataDir;
let arenaAddr;
let foreignAddr;

const watchdog = setTimeout(() => {
  console.error('e2e-origin: over 40 s; killing the server and browser');
  if (arena) arena.kill('SIGKILL');
  process.exit(1);
}, 40_000);
watchdog.unref();

/** A page that tries to open a game socket and reports what happened. */
const PROBE = `
window.tryOpen = (url) => new Promise((resolve) => {
  const ws = new WebSocket(url, ['arena.v2.proto']);
  ws.onopen = () => { resolve({ opened: true, protocol: ws.protocol }); ws.close(1000); };
  ws.onclose = (e) => resolve({ opened: false, code: e.code });
});`;

function metrics() {
  return new Promise((res, rej) => {
    get(`http://${arenaAddr}/metrics`, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res(body));
    }).on('error', rej);
  });
}

before(async () => {
  const started = spawnArena(ARENA_BIN);
  arena = started.child;
  arenaAddr = await started.addr;
  foreign = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>not the game</title><script>${PROBE}</script>`);
  });
  await new Promise((r) => foreign.listen(0, '127.0.0.1', r));
  foreignAddr = `127.0.0.1:${foreign.address().port}`;
  userDataDir = mkdtempSync(join(tmpdir(), 'e2e-origin-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (foreign) foreign.close();
  if (arena) arena.kill('SIGTERM');
});

test('a page from a foreign origin cannot open a socket; the game page can', async () => {
  const evil = await context.newPage();
  await evil.goto(`http://${foreignAddr}/`);
  const refused = await evil.evaluate((url) => window.tryOpen(url), `ws://${arenaAddr}/ws`);
  assert.equal(refused.opened, false, `a foreign page opened a game socket: ${JSON.stringify(refused)}`);
  assert.equal(refused.code, 1006, 'the browser sees the refused handshake as an abnormal close');
  const m = await metrics();
  assert.match(m, /playhouse_handshakes_refused_total\{status="403"\} [1-9]/, 'the server refused it with 403');

  const game = await context.newPage();
  await game.goto(`http://${arenaAddr}/`);
  await game.evaluate(PROBE);
  const allowed = await game.evaluate((url) => window.tryOpen(url), `ws://${arenaAddr}/ws`);
  assert.deepEqual(allowed, { opened: true, protocol: 'arena.v2.proto' });
});
