// The SDK over wss:// against the real arena serving TLS (rustls) with a
// self-signed certificate generated here with openssl. Node's `ws` trusts
// it through its `ca` option (a subclass passes it, as an application with
// a private CA would); without it, or over plain ws://, the connection fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Client } from '../src/index.js';
import { startArena, options, waitFor } from './helpers.js';

/** @type {import('./helpers.js').Arena} */
let arena;
/** @type {string} */
let dir;
/** @type {string} */
let certPem;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'playhouse-js-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  // P-256 key, one day, valid for 127.0.0.1 and localhost.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  certPem = readFileSync(cert, 'utf8');
  arena = await startArena(0, 10_000, [], { tls: { cert, key } });
});

after(async () => {
  await arena?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `ws`'s WebSocket, trusting the test certificate. */
class TrustingWebSocket extends WebSocket {
  /** @param {string | URL} url @param {string | string[]} [protocols] */
  constructor(url, protocols) {
    super(url, protocols, { ca: certPem });
  }
}

test('over wss:// the SDK negotiates, joins and receives states', { timeout: 20_000 }, async () => {
  assert.match(arena.url, /^wss:\/\//);
  const c = await Client.connect(arena.url, options({ WebSocket: TrustingWebSocket, tokens: ['arena.v1.msgpack', 'arena.v2.proto'] }));
  try {
    assert.equal(c.protocol, 'arena.v2.proto');
    const joined = await c.joinOrCreate('arena', { name: 'tls' });
    const first = await waitFor(c, 'state', (s) => s.room === joined.room);
    const later = await waitFor(c, 'state', (s) => s.room === joined.room && s.tick > first.tick);
    assert.ok(later.tick > first.tick);
    assert.ok(await c.ping() >= 0);
  } finally {
    await c.close();
  }
});

test('an untrusted certificate and plain ws:// to the TLS port are refused', { timeout: 20_000 }, async () => {
  // The default CA list did not issue this certificate.
  await assert.rejects(Client.connect(arena.url, options({ WebSocket })), /self-signed certificate/);
  // Plain HTTP to a TLS port gets TLS bytes back, not an HTTP response.
  await assert.rejects(
    Client.connect(arena.url.replace(/^wss:/, 'ws:'), options({ WebSocket: TrustingWebSocket })),
    /Expected HTTP/,
  );
  // The right client still gets in.
  const c = await Client.connect(arena.url, options({ WebSocket: TrustingWebSocket }));
  await c.close();
});
