// End-to-end: the operators' monitor page (/monitor) in real headless
// Chromium against the real arena server with the monitor on and three
// bots playing. A wrong token is refused on the page (403); the right one
// shows rooms per type, the room with its clients and their RTT, the
// charts, close codes and, for the opened room, its latest state decoded
// to JSON; Kick closes a bot with 4005 (counted in the close codes) and
// Dispose removes the room. Screenshot: artifacts/e2e/monitor.png.
//
//   ARENA_BIN   server binary (default <repo>/target/debug/arena)
//   BOTS_BIN    bots binary   (default <repo>/target/debug/bots)
//   CHROMIUM    browser       (default /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { spawnArena, until } from './e2e-support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');
const ARENA_BIN = process.env.ARENA_BIN || join(REPO, 'target/debug/arena');
const BOTS_BIN = process.env.BOTS_BIN || join(REPO, 'target/debug/bots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = join(REPO, 'artifacts/e2e');
const TOKEN = 'e2e-monitor-token-51c2';

let arena;
let bots;
let context;
let userDataDir;
let addr;
let output = () => '';

const watchdog = setTimeout(() => {
  console.error('e2e-monitor: over 75 s; killing the server, bots and browser');
  if (bots) bots.kill('SIGKILL');
  if (arena) arena.kill('SIGKILL');
  process.exit(1);
}, 75_000);
watchdog.unref();

before(async () => {
  // The token through the environment, as an operator would pass it.
  process.env.PLAYHOUSE_MONITOR_TOKEN = TOKEN;
  const started = spawnArena(ARENA_BIN);
  delete process.env.PLAYHOUSE_MONITOR_TOKEN;
  arena = started.child;
  output = started.output;
  addr = await started.addr;
  // Longer than the whole test (watchdog 75 s, plus start-up): the room must
  // not empty before Dispose.
  bots = spawn(BOTS_BIN, ['--url', `ws://${addr}/ws`, '--count', '3', '--duration', '120'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  userDataDir = mkdtempSync(join(tmpdir(), 'e2e-monitor-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-timer-throttling'],
    viewport: { width: 1400, height: 1100 },
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (bots) bots.kill('SIGTERM');
  if (arena) arena.kill('SIGTERM');
});

test('the monitor page shows the game and acts on it', async (t) => {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://${addr}/monitor`);
  const status = () => page.textContent('#status');

  // A wrong token: refused, nothing shown.
  await page.fill('#token', 'not-the-token');
  await page.click('#connect');
  await until('the page to say 403', async () => /^403/.test(await status()), 5000, 100);
  assert.equal(await page.isHidden('#dash'), true);

  await page.fill('#token', TOKEN);
  await page.click('#connect');
  await until('the dashboard', async () => page.isVisible('#dash'), 5000, 100);

  // Rooms per type, and the bots' room with its three clients, each with an
  // RTT once its first heartbeat pong came back (every 5 s).
  await until(
    'three clients with an RTT in the rooms table',
    async () => (await page.$$eval('#rooms tbody .client', (els) => els.filter((e) => / ms\)$/.test(e.textContent)).length)) >= 3,
    20_000,
    250,
  ).catch((e) => {
    throw new Error(`${e.message}\nserver output:\n${output()}`);
  });
  const types = await page.$$eval('#types tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(types[0].slice(0, 2), ['arena', '1'], JSON.stringify(types));
  assert.ok(Number(await page.textContent('#connections')) >= 3);

  // The charts have points.
  for (const id of ['chart-lateness', 'chart-duration', 'chart-bytes']) {
    await until(`points on #${id}`, async () => Number(await page.getAttribute(`#${id}`, 'data-points')) > 0, 8000, 250);
  }

  // Rows are updated in place: the Open button is the same element from one
  // refresh to the next (so a click cannot fall between two of them).
  await page.$eval('#rooms tbody button[data-room]', (b) => {
    b.keptAcrossRefreshes = true;
  });
  const refreshed = await status();
  await until('two more refreshes', async () => (await status()) !== refreshed, 5000, 100);
  await page.waitForTimeout(1200);
  assert.equal(
    await page.$eval('#rooms tbody button[data-room]', (b) => b.keptAcrossRefreshes === true),
    true,
    'the Open button survived the refreshes',
  );

  // The room: its clients and its latest state as JSON.
  await page.click('#rooms tbody button[data-room]');
  await until('the room detail', async () => page.isVisible('#room'), 5000, 100);
  const state = await until(
    'the decoded state',
    async () => {
      const text = await page.textContent('#state');
      return text.trim().startsWith('{') && text;
    },
    8000,
    200,
  );
  // arena's v2 wire state is its `Output` oneof, holding the `State`.
  const game = JSON.parse(state).kind.state;
  assert.equal(game.players.length, 3, state.slice(0, 300));
  assert.ok(game.width > 0);
  assert.equal(await page.$$eval('#room-clients tbody tr', (rows) => rows.length), 3);
  // arena broadcasts its state: the room's own, not one client's view.
  assert.doesNotMatch(await page.textContent('#state-meta'), /view of/);

  // Kick one bot: closed with 4005, which the close codes then count.
  const victim = await page.getAttribute('#room-clients tbody button[data-client]', 'data-client');
  await page.click(`#room-clients tbody button[data-client="${victim}"]`);
  await until('the kick to be reported', async () => /^Kicked client/.test(await status()), 5000, 100);
  // The message stays a few seconds, then refreshes show the normal status again.
  await until('the normal status to come back', async () => /^Connected; refreshed/.test(await status()), 10_000, 200);
  await until(
    'close code 4005 in the table',
    async () => page.$$eval('#closes tbody tr', (rows) => rows.some((r) => r.cells[0].textContent === '4005')),
    5000,
    200,
  );

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'monitor.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);

  // Dispose the room: it leaves the page (the bots may open a new one). The
  // status line changes with every refresh, so what is waited for is what
  // no refresh can undo: the room gone from the API and from the table, and
  // its panel closed for good (a late answer about it must not re-open it).
  const room = await page.textContent('#room-id');
  await page.click('#dispose');
  const roomApi = `http://${addr}/monitor/api/rooms/${encodeURIComponent(room)}`;
  await until(
    'the disposed room to be gone from the API',
    async () => (await fetch(roomApi, { headers: { Authorization: `Bearer ${TOKEN}` } })).status === 404,
    5000,
    100,
  );
  await until(
    'the disposed room to leave the table',
    async () => !(await page.$$eval('#rooms tbody button[data-room]', (bs, id) => bs.some((b) => b.dataset.room === id), room)),
    5000,
    200,
  );
  await page.waitForTimeout(2500);
  assert.equal(await page.isHidden('#room'), true, 'the disposed room stays closed');
  assert.match(await status(), new RegExp(`^(Disposed room ${room}\\.|Connected; refreshed)`));
  assert.deepEqual(errors, [], 'no page errors');
});
