import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { parseToken, parseTokens, formatVersions, explainRefusal, infoUrlFor, Client } from '../src/index.js';
import { ALL_PROTOS, PROTOS } from './helpers.js';

test('tokens: the grammar of docs/protocol.md §2.1', () => {
  assert.deepEqual(parseToken('arena.v2.proto'), { token: 'arena.v2.proto', app: 'arena', version: 2, codec: 'proto' });
  assert.deepEqual(parseToken('my-game_2.v4294967295.msgpack'), {
    token: 'my-game_2.v4294967295.msgpack',
    app: 'my-game_2',
    version: 4294967295,
    codec: 'msgpack',
  });
  for (const bad of ['arena.v02.proto', 'arena.v0.proto', 'arena.v4294967296.proto', 'Arena.v2.proto', 'arena.V2.proto',
    'arena.v2.json', 'arena.v2', 'arena.2.proto', ' arena.v2.proto', 'arena.v2.proto ', 'a.b.v2.proto', '', 'arena.v-1.proto']) {
    assert.equal(parseToken(bad), null, bad);
  }
  // @ts-expect-error not a string
  assert.equal(parseToken(2), null);
});

test('tokens: the list must be non-empty, valid and without duplicates; order is kept', () => {
  assert.deepEqual(parseTokens(['arena.v1.msgpack', 'arena.v2.proto']).map((t) => t.token), ['arena.v1.msgpack', 'arena.v2.proto']);
  assert.throws(() => parseTokens([]), /non-empty array/);
  assert.throws(() => parseTokens(undefined), /non-empty array/);
  assert.throws(() => parseTokens(['arena.v2.proto', 'arena.v2.proto']), /listed twice/);
  assert.throws(() => parseTokens(['arena.v2.proto', 'arena.v02.proto']), /invalid token "arena.v02.proto"/);
});

test('formatVersions writes ranges', () => {
  assert.equal(formatVersions([2, 1]), 'v1–v2');
  assert.equal(formatVersions([9]), 'v9');
  assert.equal(formatVersions([1, 3, 4, 5, 7]), 'v1, v3–v5, v7');
  assert.equal(formatVersions([]), '');
});

const info = {
  app: 'arena',
  protocols: ['arena.v2.proto', 'arena.v2.msgpack', 'arena.v1.proto', 'arena.v1.msgpack'],
  versions: [2, 1],
};
const url = 'ws://127.0.0.1:8080/ws';

test('refusal text: no shared version names both sides and what to do', () => {
  const r = explainRefusal({ url, offered: ['arena.v9.proto'], info });
  assert.equal(r.kind, 'incompatible');
  assert.equal(
    r.message,
    'could not connect to ws://127.0.0.1:8080/ws: this client speaks arena v9 (arena.v9.proto), the server speaks ' +
      'arena v1–v2 (arena.v2.proto, arena.v2.msgpack, arena.v1.proto, arena.v1.msgpack). ' +
      'The server is older than this client: update the server, or use an older client.',
  );
  const old = explainRefusal({ url, offered: ['arena.v1.msgpack'], info: { ...info, protocols: ['arena.v3.proto'], versions: [3] } });
  assert.match(old.message, /this client speaks arena v1 \(arena\.v1\.msgpack\), the server speaks arena v3 \(arena\.v3\.proto\)\. This client is too old/);
  const codec = explainRefusal({ url, offered: ['arena.v2.msgpack'], info: { ...info, protocols: ['arena.v2.proto'], versions: [2] } });
  assert.match(codec.message, /no codec is shared/);
});

test('refusal text: another game, a shared token (full server), unreachable', () => {
  const chess = explainRefusal({ url, offered: ['chess.v1.proto'], info });
  assert.equal(chess.kind, 'wrong-app');
  assert.match(chess.message, /this client is for chess, but this server runs "arena"/);
  const full = explainRefusal({ url, offered: ['arena.v3.proto', 'arena.v2.msgpack'], info });
  assert.equal(full.kind, 'refused');
  assert.match(full.message, /although it speaks arena\.v2\.msgpack.*full/);
  const down = explainRefusal({ url, offered: ['arena.v2.proto'], info: null, infoUrl: 'http://127.0.0.1:8080/info', infoError: 'fetch failed' });
  assert.equal(down.kind, 'unreachable');
  assert.equal(
    down.message,
    'could not connect to ws://127.0.0.1:8080/ws: the server is unreachable (GET http://127.0.0.1:8080/info: fetch failed). ' +
      'Check the address and that the server is running.',
  );
});

test('infoUrlFor: same host, http(s) for ws(s), /ws replaced by /info', () => {
  assert.equal(infoUrlFor('ws://127.0.0.1:8080/ws'), 'http://127.0.0.1:8080/info');
  assert.equal(infoUrlFor('wss://example.com/ws?x=1'), 'https://example.com/info');
  assert.equal(infoUrlFor('wss://example.com/game/ws'), 'https://example.com/game/info');
  assert.equal(infoUrlFor('ws://h:1/socket'), 'http://h:1/info');
});

test('connect options are checked before any network traffic', async () => {
  const base = { WebSocket, protos: ALL_PROTOS };
  await assert.rejects(Client.connect('http://127.0.0.1:1/ws', { ...base, tokens: ['arena.v2.proto'] }), /ws:\/\/ or wss:\/\//);
  await assert.rejects(Client.connect('not a url', { ...base, tokens: ['arena.v2.proto'] }), /invalid URL/);
  await assert.rejects(Client.connect('ws://127.0.0.1:1/ws', { ...base, tokens: ['arena.v2.json'] }), TypeError);
  // a proto token needs the game types of its version (the envelope ships with the package)
  await assert.rejects(
    Client.connect('ws://127.0.0.1:1/ws', { WebSocket, tokens: ['arena.v2.proto'] }),
    (e) => {
      assert.match(String(e), /arena\.v2\.proto needs the \.proto sources.*missing: arena\.v2\.Input, arena\.v2\.Output/);
      assert.doesNotMatch(String(e), /playhouse\.envelope/);
      return true;
    },
  );
  await assert.rejects(
    Client.connect('ws://127.0.0.1:1/ws', { ...base, tokens: ['arena.v9.proto'] }),
    /missing: arena\.v9\.Input, arena\.v9\.Output/,
  );
  await assert.rejects(
    Client.connect('ws://127.0.0.1:1/ws', { WebSocket, protos: [PROTOS.envelope, 'message {'], tokens: ['arena.v2.msgpack'] }),
    /protos\[1\] does not parse/,
  );
  // no WebSocket class in Node 20 unless one is passed
  if (typeof (/** @type {any} */ (globalThis).WebSocket) !== 'function') {
    await assert.rejects(Client.connect('ws://127.0.0.1:1/ws', { tokens: ['arena.v2.msgpack'] }), /no WebSocket class/);
  }
});
