// A TCP proxy on 127.0.0.1 for fault injection between a client and a
// server: it can lose what the server sends (as on a link that died while
// the server kept writing), reset every connection through it (RST both
// ways: no close frame, bytes in flight gone), and refuse new connections
// for a while. Node's `net` only; used by the SDK's integration tests and
// by the browser e2e tests (game-example/web/test).

import { createServer, connect } from 'node:net';

/**
 * @typedef {object} Proxy
 * @property {number} port
 * @property {(path?: string) => string} url  `ws://127.0.0.1:<port><path>` (default `/ws`)
 * @property {() => number} freeze  from now on, bytes the server sends on the current
 *   connections are read and thrown away (the client gets nothing); returns how many
 *   connections were frozen
 * @property {() => number} cut  resets both sides of every current connection; returns how many
 * @property {(on: boolean) => void} refuse  while on, new connections are reset at once
 * @property {() => number} open  connections through the proxy now
 * @property {() => number} dropped  bytes thrown away by `freeze` so far
 * @property {() => Promise<void>} close
 */

/**
 * Starts a proxy to `127.0.0.1:<targetPort>` on a free port.
 * @param {number} targetPort
 * @returns {Promise<Proxy>}
 */
export async function startProxy(targetPort) {
  /** @type {Set<{ down: import('node:net').Socket, up: import('node:net').Socket, frozen: boolean }>} */
  const pairs = new Set();
  let refusing = false;
  let dropped = 0;
  const server = createServer((down) => {
    down.on('error', () => {});
    if (refusing) {
      down.resetAndDestroy();
      return;
    }
    const up = connect(targetPort, '127.0.0.1');
    up.on('error', () => {});
    const pair = { down, up, frozen: false };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      if (!down.destroyed) down.destroy();
      if (!up.destroyed) up.destroy();
    };
    down.on('close', end);
    up.on('close', end);
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      if (pair.frozen) dropped += d.length;
      else down.write(d);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    port,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    freeze() {
      for (const p of pairs) p.frozen = true;
      return pairs.size;
    },
    cut() {
      const n = pairs.size;
      for (const p of [...pairs]) {
        pairs.delete(p);
        if (!p.down.destroyed) p.down.resetAndDestroy();
        if (!p.up.destroyed) p.up.resetAndDestroy();
      }
      return n;
    },
    refuse(on) {
      refusing = on;
    },
    open: () => pairs.size,
    dropped: () => dropped,
    close() {
      for (const p of [...pairs]) {
        p.down.destroy();
        p.up.destroy();
      }
      pairs.clear();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
