// Shared by the end-to-end tests: polling, sleeping, free ports, TCP and HTTP
// probes, and starting the real arena server binary on an ephemeral port.

import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { connect, createServer } from 'node:net';

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns a truthy value or `ms` pass.
 * @template T
 * @param {string} what  for the timeout message
 * @param {() => T | Promise<T>} fn
 */
export async function until(what, fn, ms = 5000, every = 50) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last value ${JSON.stringify(last)}`);
    await sleep(every);
  }
}

/**
 * Starts `bin --addr 127.0.0.1:0 ...args`; `addr` resolves with the address
 * from its `LISTENING <addr>` line (10 s at most). The caller kills `child`.
 * @param {string} bin
 * @param {string[]} [args]
 */
export function spawnArena(bin, args = []) {
  const child = spawn(bin, ['--addr', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  let output = '';
  const keep = (d) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const addr = new Promise((resolveAddr, reject) => {
    const timer = setTimeout(() => reject(new Error(`arena printed no LISTENING line in 10 s:\n${output}`)), 10_000);
    child.stdout.on('data', () => {
      const m = /LISTENING (\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolveAddr(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`arena exited with ${code}:\n${output}`));
    });
  });
  // `output()`: the last 20 kB the process wrote, for a failure message.
  return { child, addr, output: () => output };
}

/** A free TCP port on 127.0.0.1. */
export const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export const tcpUp = (port) =>
  new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  });

/** GET `url`: its status and body. */
export const httpGet = (url) =>
  new Promise((res, rej) => {
    get(url, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode, body }));
    }).on('error', rej);
  });
