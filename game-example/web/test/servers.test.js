import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serversFromQuery, wsUrlFor } from '../src/servers.js';

const page = { protocol: 'http:', host: 'arena.test:8080' };
const servers = (query, loc = page) => serversFromQuery(new URLSearchParams(query), loc);

test('without ?servers= the page plays on the server that served it', () => {
  assert.deepEqual(servers(''), { urls: ['ws://arena.test:8080/ws'], ignored: [] });
  assert.equal(wsUrlFor({ protocol: 'https:', host: 'arena.test' }), 'wss://arena.test/ws');
});

test('?servers= is a URL list in failover order, comma-separated or repeated', () => {
  assert.deepEqual(servers('servers=ws://h1:1/ws,wss://h2/ws&servers=ws://h3/ws').urls, [
    'ws://h1:1/ws',
    'wss://h2/ws',
    'ws://h3/ws',
  ]);
  // blanks and repeats are dropped; the URLs come normalised
  assert.deepEqual(servers('servers= ws://H1:1/ws , ,ws://h1:1/ws').urls, ['ws://h1:1/ws']);
});

test('only ws:// and wss:// URLs are taken; the rest is ignored and reported', () => {
  const s = servers('servers=http://h1/ws,ws://h2/ws,javascript:alert(1),h3/ws,ws://');
  assert.deepEqual(s.urls, ['ws://h2/ws']);
  assert.deepEqual(s.ignored, ['http://h1/ws', 'javascript:alert(1)', 'h3/ws', 'ws://']);
});

test('a ?servers= with nothing usable falls back to the page\'s own server', () => {
  assert.deepEqual(servers('servers=ftp://h1/ws'), { urls: ['ws://arena.test:8080/ws'], ignored: ['ftp://h1/ws'] });
});
