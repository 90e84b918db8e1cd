// A client on a deprecated schema version is told so, once, with the sunset
// date (against the real arena, which deprecates v1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../src/index.js';
import { startArena, options } from './helpers.js';

/** @type {import('./helpers.js').Arena} */
let arena;

before(async () => {
  arena = await startArena();
});

after(async () => {
  await arena?.kill();
});

test('a client on a deprecated version learns it and its sunset; one on the current version does not', async () => {
  const warn = console.warn;
  /** @type {string[]} */
  const warned = [];
  console.warn = (/** @type {string} */ m) => void warned.push(m);
  try {
    const old = await Client.connect(arena.url, options({ tokens: ['arena.v1.msgpack'] }));
    const d = old.deprecation;
    assert.ok(d, 'v1 is deprecated');
    assert.equal(d.protocol, 'arena.v1.msgpack');
    assert.equal(d.version, 1);
    assert.match(String(d.sunset), /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(warned.length, 1, 'warned once');
    const current = await Client.connect(arena.url, options({ tokens: ['arena.v2.proto'] }));
    assert.equal(current.deprecation, null);
    assert.equal(warned.length, 1, 'no warning for the current version');
    await Promise.all([old.close(), current.close()]);
  } finally {
    console.warn = warn;
  }
});
