import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, isFatalClose, reconnectPolicy, FATAL_CLOSE_CODES, DEFAULT_RECONNECT } from '../src/index.js';

const policy = { baseMs: 250, capMs: 5000 };

test('backoff: the ceiling doubles per retry and stops at capMs', () => {
  const top = () => 1 - Number.EPSILON; // just under 1: the ceiling itself (floored)
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 10, 100, 5000].map((r) => backoffDelay(r, policy, top));
  assert.deepEqual(ceilings, [249, 499, 999, 1999, 3999, 4999, 4999, 4999, 4999, 4999]);
});

test('backoff: full jitter, random() × ceiling, floored', () => {
  assert.equal(backoffDelay(0, policy, () => 0), 0);
  assert.equal(backoffDelay(0, policy, () => 0.5), 125);
  assert.equal(backoffDelay(3, policy, () => 0.25), 500); // ceiling 2000
  assert.equal(backoffDelay(9, policy, () => 0.5), 2500); // capped at 5000
  // out-of-range random values are clamped rather than trusted
  assert.equal(backoffDelay(0, policy, () => -3), 0);
  assert.equal(backoffDelay(0, policy, () => 7), 250);
});

test('backoff: with Math.random every delay is in [0, ceiling)', () => {
  for (let retry = 0; retry < 8; retry++) {
    const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retry);
    let sum = 0;
    for (let i = 0; i < 500; i++) {
      const d = backoffDelay(retry, policy);
      assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `retry ${retry}: ${d} not in [0, ${ceiling})`);
      sum += d;
    }
    const mean = sum / 500;
    assert.ok(mean > ceiling * 0.35 && mean < ceiling * 0.65, `retry ${retry}: mean ${mean} far from ${ceiling / 2}`);
  }
});

test('backoff: huge retry counts stay finite', () => {
  assert.equal(backoffDelay(5000, policy, () => 0.5), 2500);
  assert.equal(backoffDelay(-1, policy, () => 0.5), 125);
});

test('fatal close codes: our own close, protocol faults, policy, auth, kicked, session taken over', () => {
  for (const code of [1000, 1002, 1003, 1007, 1008, 1009, 4001, 4003, 4005, 4009]) assert.ok(isFatalClose(code), String(code));
  for (const code of [1001, 1005, 1006, 1011, 1012, 1013, 4000, 4002, 4008, 3000, 4999]) assert.ok(!isFatalClose(code), String(code));
  assert.deepEqual([...FATAL_CLOSE_CODES].sort((a, b) => a - b), [1000, 1002, 1003, 1007, 1008, 1009, 4001, 4003, 4005, 4009]);
});

test('reconnect option: off by default, true = defaults, fields override', () => {
  assert.equal(reconnectPolicy(undefined), null);
  assert.equal(reconnectPolicy(false), null);
  const d = reconnectPolicy(true);
  assert.ok(d);
  assert.deepEqual(
    { baseMs: d.baseMs, capMs: d.capMs, maxTries: d.maxTries, resume: d.resume, rejoin: d.rejoin },
    { ...DEFAULT_RECONNECT, resume: true, rejoin: true },
  );
  assert.equal(d.random, Math.random);
  const random = () => 0.5;
  const p = reconnectPolicy({ baseMs: 10, maxTries: 2, random, resume: false, rejoin: false });
  assert.ok(p);
  assert.deepEqual(p, { baseMs: 10, capMs: 5000, maxTries: 2, random, resume: false, rejoin: false });
  assert.throws(() => reconnectPolicy({ baseMs: -1 }), TypeError);
  assert.throws(() => reconnectPolicy({ capMs: Infinity }), TypeError);
  assert.throws(() => reconnectPolicy({ maxTries: NaN }), TypeError);
});
