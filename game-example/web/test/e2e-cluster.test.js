// End-to-end: two browsers on two nodes of a cluster play together. A real
// redis-server on a free port and two real arena nodes on it (a, b); in
// real headless Chromium, one page opens the game served by node a and
// joins a room there, a second page opens the game served by node b: node
// b redirects its join to a's room, the SDK follows, and both pages see
// both players in one room.
//
//   ARENA_BIN   server binary (default <repo>/target/debug/arena)
//   CHROMIUM    browser       (default /usr/bin/chromium)
//   Skipped when redis-server is not installed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, httpGet, spawnArena, tcpUp, until } from './e2e-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const ARENA_BIN = process.env.ARENA_BIN || join(REPO, 'target/debug/arena');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;

let redis;
let nodeA;
let nodeB;
/** The nodes' output, for a failure message. */
const outputs = {};
/** What each page logged to its console. */
const consoles = [];
let addrA;
let addrB;
let context;
let userDataDir;
const pageErrors = [];

const watchdog = setTimeout(() => {
  console.error('e2e-cluster: over 50 s; killing the servers and browser');
  for (const p of [nodeA, nodeB, redis]) if (p) p.kill('SIGKILL');
  process.exit(1);
}, 50_000);
watchdog.unref();

before(async () => {
  if (!HAVE_REDIS) return;
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  await until('redis-server up', () => tcpUp(port));
  const cluster = ['--redis', url, '--lease-ms', '3000'];
  // b first: a must allow the pages b serves (a redirected page connects
  // to a from b's origin).
  const b = spawnArena(ARENA_BIN, [...cluster, '--node-id', 'b']);
  nodeB = b.child;
  outputs.b = b.output;
  addrB = await b.addr;
  const a = spawnArena(ARENA_BIN, [...cluster, '--node-id', 'a', '--allow-origin', 'self', '--allow-origin', `http://${addrB}`]);
  outputs.a = a.output;
  nodeA = a.child;
  addrA = await a.addr;
  userDataDir = mkdtempSync(join(tmpdir(), 'e2e-cluster-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  for (const p of [nodeA, nodeB]) if (p) p.kill('SIGTERM');
  if (redis) redis.kill('SIGKILL');
});

async function openGame(addr, name) {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => consoles.push(`${name}: ${m.type()}: ${m.text()}`));
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`http://${addr}/?name=${name}`);
  return page;
}

const arenaOf = (page) =>
  page.evaluate(() => {
    const a = window.__arena;
    return a ? { myId: a.myId, room: a.room, connected: a.connected, players: a.players.map((p) => p.id) } : null;
  });

test('two browsers on two nodes play in one room', { skip: !HAVE_REDIS && 'redis-server is not installed', timeout: 40_000 }, async () => {
  const first = await openGame(addrA, 'ann');
  const a1 = await until('ann in a room on node a', async () => {
    const a = await arenaOf(first);
    return a && a.connected && a.room ? a : null;
  }, 10_000);
  // Node b's directory lists the room before the second player asks.
  await until('the room listed on node b', async () => (await httpGet(`http://${addrB}/rooms`)).body.includes(a1.room), 5000);
  const second = await openGame(addrB, 'bob');
  let s1;
  let s2;
  try {
    [s1, s2] = await Promise.all(
      [first, second].map((p) =>
        until('both players seen', async () => {
          const a = await arenaOf(p);
          return a && a.connected && a.players.length === 2 ? a : null;
        }, 20_000),
      ),
    );
  } catch (e) {
    // Say where each page stands, and what the nodes and pages logged.
    const states = JSON.stringify({ ann: await arenaOf(first), bob: await arenaOf(second) });
    const logs = ['a', 'b'].map((n) => `--- node ${n}:\n${outputs[n]?.().slice(-4000) ?? ''}`).join('\n');
    throw new Error(`${e.message}\npages: ${states}\npage errors: ${pageErrors}\nconsoles:\n${consoles.slice(-40).join('\n')}\n${logs}`);
  }
  assert.equal(s2.room, s1.room, 'bob was sent to ann\'s room on node a');
  assert.deepEqual([...s1.players].sort(), [...s2.players].sort());
  assert.deepEqual(pageErrors, []);
});
