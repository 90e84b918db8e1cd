import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateClock, renderTick, pushSnapshot, sample, prune, lerpEntities } from '../src/interp.js';

const TICK_MS = 1000 / 30;
const close = (a, b, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);
const snap = (tick, players, projectiles = []) => ({ tick, players, projectiles });

test('the clock maps a state to its arrival time and keeps the earliest', () => {
  let c = updateClock(null, 100, 5000, TICK_MS);
  close(c.offsetMs, 5000 - 100 * TICK_MS);
  // A late (jittered) state pulls the estimate up only slightly…
  const late = updateClock(c, 101, 5000 + TICK_MS + 20, TICK_MS);
  assert.ok(late.offsetMs > c.offsetMs && late.offsetMs < c.offsetMs + 1);
  // …an early one is adopted at once.
  const early = updateClock(c, 101, 5000 + TICK_MS - 5, TICK_MS);
  close(early.offsetMs, c.offsetMs - 5);
  // A huge gap resyncs.
  const resync = updateClock(c, 102, 5000 + 2 * TICK_MS + 3000, TICK_MS);
  close(resync.offsetMs, c.offsetMs + 3000);
});

test('renderTick is ~100 ms (3 ticks at 30 Hz) behind the newest state', () => {
  const c = updateClock(null, 300, 10_000, TICK_MS);
  close(renderTick(c, 10_000, 100), 300 - 3);
  close(renderTick(c, 10_000 + TICK_MS / 2, 100), 297.5);
});

test('pushSnapshot keeps ticks sorted, unique and bounded', () => {
  let b = [];
  for (const t of [5, 3, 4, 4, 7, 6]) b = pushSnapshot(b, snap(t, [{ id: 1, x: t, y: 0 }]), 4);
  assert.deepEqual(
    b.map((s) => s.tick),
    [4, 5, 6, 7],
  );
  // A duplicate tick replaces the earlier copy.
  b = pushSnapshot(b, snap(6, [{ id: 1, x: 60, y: 0 }]), 4);
  assert.equal(b.find((s) => s.tick === 6).players[0].x, 60);
});

test('sample interpolates positions between the bracketing ticks', () => {
  const b = [snap(10, [{ id: 1, x: 100, y: 50, name: 'a' }]), snap(11, [{ id: 1, x: 110, y: 60, name: 'a' }])];
  const v = sample(b, 10.25);
  assert.equal(v.mode, 'interp');
  close(v.players[0].x, 102.5);
  close(v.players[0].y, 52.5);
  assert.equal(v.players[0].name, 'a');
});

test('skipped ticks are interpolated over the real gap', () => {
  const b = [snap(10, [{ id: 1, x: 0, y: 0 }]), snap(14, [{ id: 1, x: 40, y: 0 }])];
  close(sample(b, 11).players[0].x, 10);
  close(sample(b, 13).players[0].x, 30);
});

test('before the first or after the last snapshot, hold', () => {
  const b = [snap(10, [{ id: 1, x: 0, y: 0 }]), snap(11, [{ id: 1, x: 10, y: 0 }])];
  assert.equal(sample(b, 5).mode, 'hold');
  assert.equal(sample(b, 5).players[0].x, 0);
  assert.equal(sample(b, 50).mode, 'hold');
  assert.equal(sample(b, 50).players[0].x, 10);
  assert.equal(sample([], 3).mode, 'empty');
});

test('joiners appear, leavers vanish, respawns snap', () => {
  const older = [
    { id: 1, x: 0, y: 0 },
    { id: 2, x: 50, y: 50 },
    { id: 3, x: 100, y: 100 },
  ];
  const newer = [
    { id: 1, x: 10, y: 0 },
    { id: 3, x: 800, y: 500 }, // respawned far away
    { id: 4, x: 5, y: 5 }, // joined
  ];
  const out = lerpEntities(older, newer, 0.5);
  assert.deepEqual(
    out.map((e) => [e.id, e.x, e.y]),
    [
      [1, 5, 0],
      [3, 800, 500],
      [4, 5, 5],
    ],
  );
});

test('projectiles are interpolated too', () => {
  const b = [snap(1, [], [{ id: 9, x: 100, y: 100, owner: 1 }]), snap(2, [], [{ id: 9, x: 120, y: 100, owner: 1 }])];
  close(sample(b, 1.5).projectiles[0].x, 110);
});

test('prune keeps one snapshot at or before t', () => {
  let b = [];
  for (let t = 1; t <= 6; t++) b = pushSnapshot(b, snap(t, []));
  assert.deepEqual(
    prune(b, 3.5).map((s) => s.tick),
    [3, 4, 5, 6],
  );
  assert.deepEqual(
    prune(b, 0).map((s) => s.tick),
    [1, 2, 3, 4, 5, 6],
  );
});

test('an end-to-end timeline: states every tick with jitter render smoothly', () => {
  // A player moving at 6.6 u/tick, states arriving with 0–15 ms jitter;
  // drawn positions at 60 fps must be monotonic and never jump > 1 tick.
  let clock = null;
  let buf = [];
  let last = -Infinity;
  let t = 0;
  const jitter = (k) => ((k * 7919) % 16) | 0;
  for (let k = 0; k < 120; k++) {
    const recv = 1000 + k * TICK_MS + jitter(k);
    while (t <= recv) {
      if (clock) {
        const v = sample(buf, renderTick(clock, t));
        if (v.players.length) {
          const x = v.players[0].x;
          assert.ok(x >= last - 1e-9, `went back at ${t}: ${x} < ${last}`);
          assert.ok(x - last <= 6.6 * 1.6 || last === -Infinity);
          last = x;
        }
      }
      t += 1000 / 60;
    }
    clock = updateClock(clock, k, recv, TICK_MS);
    buf = pushSnapshot(buf, snap(k, [{ id: 2, x: k * 6.6, y: 0 }]));
  }
  assert.ok(last > 600);
});
