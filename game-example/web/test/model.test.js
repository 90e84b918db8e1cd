import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeState, normalizeEvent, splitOutput, tokenVersion, num, percentile, formatClock, playerColor } from '../src/model.js';

test('v2 state passes through with all fields', () => {
  const s = normalizeState({
    players: [{ id: 1, x: 10, y: 20, score: 3, vx: 220, vy: 0, name: 'ann', hp: 80, alive: true, respawnMs: 0, color: 0xff8800 }],
    pickups: [{ id: 4, x: 1, y: 2, kind: 'HEALTH' }, { id: 5, x: 1, y: 2, kind: 3 }],
    projectiles: [{ id: 7, x: 5, y: 6, vx: 600, vy: 0, owner: 1 }],
    round: { number: 2, remainingMs: 61000, intermission: false },
    width: 1000,
    height: 600,
  });
  assert.equal(s.players[0].name, 'ann');
  assert.equal(s.players[0].hp, 80);
  assert.deepEqual(s.pickups.map((p) => p.kind), [2, 3]);
  assert.equal(s.projectiles[0].owner, 1);
  assert.deepEqual(s.round, { number: 2, remainingMs: 61000, intermission: false });
  assert.equal(playerColor(s.players[0]), '#ff8800');
});

test('v1 state: roundRemainingMs, no names, colours, velocities or pickup kinds', () => {
  const s = normalizeState({
    players: [{ id: 2, x: 1, y: 2, score: 0, hp: 100, alive: false }],
    pickups: [{ id: 1, x: 3, y: 4 }],
    projectiles: [],
    roundRemainingMs: 5000,
    width: 1000,
    height: 600,
  });
  assert.deepEqual(s.round, { number: 0, remainingMs: 5000, intermission: false });
  assert.equal(s.players[0].name, '');
  assert.equal(s.players[0].alive, false);
  assert.equal(s.players[0].vx, 0);
  assert.equal(s.pickups[0].kind, 0);
  assert.match(playerColor(s.players[0]), /^hsl\(/);
});

test('outputs, events and numbers', () => {
  assert.deepEqual(splitOutput({ kind: { event: { text: 'x' } } }), { event: { text: 'x' } });
  assert.deepEqual(splitOutput({ kind: null }), {});
  assert.deepEqual(splitOutput({ kind: 'state', state: { a: 1 } }), { state: { a: 1 } });
  assert.deepEqual(normalizeEvent({ text: 'a hit b', kind: 'HIT', actor: 1, target: 2 }), { text: 'a hit b', kind: 3, actor: 1, target: 2 });
  assert.deepEqual(normalizeEvent({ text: 'v1' }), { text: 'v1', kind: 0, actor: 0, target: 0 });
  assert.equal(tokenVersion('arena.v2.proto'), 2);
  assert.equal(tokenVersion('arena.v1.msgpack'), 1);
  assert.equal(num(12n), 12);
  assert.equal(num({ toNumber: () => 7 }), 7);
  assert.equal(num('9'), 9);
  assert.equal(formatClock(90_000), '1:30');
  assert.equal(formatClock(4_001), '0:05');
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 99), 5);
});
