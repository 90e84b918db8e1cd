// Test helpers: the real arena server as a child process, the project's
// .proto sources, and bounded waits.

import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { WebSocket } from 'ws';
import { FakeWebSocket } from './fake-ws.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

/** The arena binary: `ARENA_BIN`, default `<repo>/target/debug/arena`. */
export const ARENA_BIN = resolve(process.cwd(), process.env.ARENA_BIN ?? resolve(repo, 'target/debug/arena'));

/** The .proto sources, as the browser client bundles them (text). */
export const PROTOS = {
  envelope: readFileSync(resolve(repo, 'proto/schemas/playhouse/envelope.proto'), 'utf8'),
  arenaV1: readFileSync(resolve(repo, 'game-example/schemas/arena/v1.proto'), 'utf8'),
  arenaV2: readFileSync(resolve(repo, 'game-example/schemas/arena/v2.proto'), 'utf8'),
};
/** What a game passes as `protos`: its own schemas (the envelope ships with the SDK). */
export const ALL_PROTOS = [PROTOS.arenaV1, PROTOS.arenaV2];
export const ALL_TOKENS = ['arena.v2.proto', 'arena.v2.msgpack', 'arena.v1.proto', 'arena.v1.msgpack'];
export const GAME = { package: 'arena', input: 'Input', output: 'Output' };

/** Connect options for tests: ws, the protos, short timeouts. */
export function options(/** @type {Partial<import('../src/client.js').ConnectOptions>} */ extra = {}) {
  return { tokens: ALL_TOKENS, protos: ALL_PROTOS, game: GAME, WebSocket, timeoutMs: 5000, ...extra };
}

/** The URL the unit tests against the fake server dial (FakeWebSocket answers any). */
export const FAKE_URL = 'ws://127.0.0.1:9/ws';

/**
 * Connect options for unit tests against the fake server (fake-ws.js,
 * fake-sessions.js): msgpack (no schema), short timeouts, quick reconnects.
 * @param {Partial<import('../src/client.js').ConnectOptions>} [extra]
 */
export function fakeOptions(extra = {}) {
  return {
    tokens: ['arena.v2.msgpack'],
    WebSocket: FakeWebSocket,
    timeoutMs: 1000,
    reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 },
    ...extra,
  };
}

/**
 * The fake socket the client uses: the newest open one (one client at a
 * time in those tests; its older sockets are closed).
 * @returns {FakeWebSocket}
 */
export function fakeSocket() {
  return /** @type {FakeWebSocket} */ ([...FakeWebSocket.sockets].reverse().find((ws) => ws.readyState === 1));
}

/**
 * @typedef {object} Arena
 * @property {string} addr   `127.0.0.1:PORT`
 * @property {number} port
 * @property {string} url    `ws://127.0.0.1:PORT/ws`
 * @property {import('node:child_process').ChildProcess} proc
 * @property {(signal?: NodeJS.Signals) => Promise<void>} kill
 */

/**
 * Starts `arena --addr 127.0.0.1:<port> <args>` (port 0: any free port) and
 * resolves once it printed `LISTENING <addr>`. With `tls` (PEM file paths)
 * it serves `wss://`, and `url` says so.
 * @param {number} [port=0]
 * @param {number} [timeoutMs=10000]
 * @param {string[]} [args=[]]  more arguments, e.g. `['--reconnect-window', '1']`
 * @param {{ tls?: { cert: string, key: string } }} [opts]
 * @returns {Promise<Arena>}
 */
export function startArena(port = 0, timeoutMs = 10_000, args = [], opts = {}) {
  if (!existsSync(ARENA_BIN)) {
    throw new Error(`arena binary not found at ${ARENA_BIN}: run \`cargo build -p arena\` or set ARENA_BIN`);
  }
  return new Promise((resolvePromise, reject) => {
    const argv = ['--addr', `127.0.0.1:${port}`, ...args];
    if (opts.tls) argv.push('--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key);
    const scheme = opts.tls ? 'wss' : 'ws';
    const proc = spawn(ARENA_BIN, argv, {
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`arena did not print LISTENING within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    /** @param {Error | null} e @param {string} [addr] */
    const finish = (e, addr) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) {
        proc.kill('SIGKILL');
        reject(e);
        return;
      }
      const a = /** @type {string} */ (addr);
      const p = Number(a.slice(a.lastIndexOf(':') + 1));
      const exited = new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', () => r(undefined))));
      resolvePromise({
        addr: a,
        port: p,
        url: `${scheme}://${a}/ws`,
        proc,
        kill: async (signal = 'SIGKILL') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          await exited;
        },
      });
    };
    // Keep draining both pipes so the server never blocks on a full pipe.
    proc.stdout.setEncoding('utf8').on('data', (chunk) => {
      if (done) return;
      out += chunk;
      const m = /^LISTENING (\S+)$/m.exec(out);
      if (m) finish(null, m[1]);
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk) => {
      if (err.length < 4000) err += chunk;
    });
    proc.once('error', (e) => finish(e));
    proc.once('exit', (code, signal) => finish(new Error(`arena exited (${code ?? signal}) before listening; stderr: ${err}`)));
  });
}

/**
 * Starts arena on a given port, retrying while the port is not free yet.
 * @param {number} port
 * @param {number} [timeoutMs=10000]
 * @returns {Promise<Arena>}
 */
export async function startArenaOn(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await startArena(port, Math.max(1000, deadline - Date.now()));
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Resolves with the first `event` payload that `pick` accepts, or rejects
 * after `timeoutMs`.
 * @template {keyof import('../src/client.js').ClientEvents} K
 * @param {import('../src/client.js').Client} client
 * @param {K} event
 * @param {(e: import('../src/client.js').ClientEvents[K]) => boolean} [pick]
 * @param {number} [timeoutMs=5000]
 * @returns {Promise<import('../src/client.js').ClientEvents[K]>}
 */
export function waitFor(client, event, pick = () => true, timeoutMs = 5000) {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${String(event)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(event, (e) => {
      if (!pick(e)) return;
      clearTimeout(timer);
      off();
      resolvePromise(e);
    });
  });
}

/**
 * The structure of a value: the same for two values whose objects have the
 * same keys and whose leaves have the same types (array lengths ignored:
 * the first element stands for all).
 * @param {unknown} v
 * @returns {unknown}
 */
export function shapeOf(v) {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.constructor.name}`;
  if (Array.isArray(v)) return v.length ? [shapeOf(v[0])] : [];
  if (typeof v === 'object') {
    return Object.fromEntries(Object.keys(/** @type {object} */ (v)).sort().map((k) => [k, shapeOf(/** @type {any} */ (v)[k])]));
  }
  return typeof v;
}

/**
 * A game whose rooms send their State and their Event as they are, not
 * wrapped in one Output (the README's `dots`): `game.state` and
 * `game.message` name the two types.
 */
export const DOTS_V1_PROTO = `syntax = "proto3";
package dots.v1;
message Input { sint32 move_x = 1; sint32 move_y = 2; }
message Dot { uint32 id = 1; float x = 2; float y = 3; }
message State { repeated Dot dots = 1; }
message Event { string text = 1; }
`;
export const DOTS_GAME = { package: 'dots', state: 'State', message: 'Event' };
