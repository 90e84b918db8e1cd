import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  step,
  velocity,
  createPredictor,
  applyInput,
  reconcile,
  addCorrection,
  decayError,
  SPEED,
  SPRINT_SPEED,
  PLAYER_RADIUS,
} from '../src/predict.js';

const DT = 1 / 30;
const close = (a, b, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('step moves at 220 u/s along an axis', () => {
  const p = step({ x: 500, y: 300 }, { moveX: 1, moveY: 0 });
  close(p.x, 500 + SPEED * DT);
  close(p.y, 300);
  const q = step({ x: 500, y: 300 }, { moveX: 0, moveY: -1 });
  close(q.y, 300 - SPEED * DT);
});

test('diagonals are normalised', () => {
  const p = step({ x: 500, y: 300 }, { moveX: 1, moveY: 1 });
  const d = Math.hypot(p.x - 500, p.y - 300);
  close(d, SPEED * DT);
  close(p.x - 500, p.y - 300);
});

test('sprint is 340 u/s in v2 and ignored in v1', () => {
  const v2 = step({ x: 500, y: 300 }, { moveX: -1, moveY: 0, sprint: true });
  close(500 - v2.x, SPRINT_SPEED * DT);
  const v1 = step({ x: 500, y: 300 }, { moveX: -1, moveY: 0, sprint: true }, { sprintAllowed: false });
  close(500 - v1.x, SPEED * DT);
});

test('a SPEED boost moves at sprint speed without sprint', () => {
  const p = step({ x: 500, y: 300 }, { moveX: 1, moveY: 0 }, { boost: true });
  close(p.x - 500, SPRINT_SPEED * DT);
});

test('no input, no movement; axis values are clamped to -1..1', () => {
  assert.deepEqual(step({ x: 100.5, y: 20.5 }, { moveX: 0, moveY: 0 }), { x: 100.5, y: 20.5 });
  const v = velocity({ moveX: 5, moveY: 0 });
  close(v.vx, SPEED);
  assert.deepEqual(velocity({}), { vx: 0, vy: 0 });
});

test('clamps to [16, 984] x [16, 584]', () => {
  let p = { x: 980, y: 580 };
  for (let i = 0; i < 10; i++) p = step(p, { moveX: 1, moveY: 1, sprint: true });
  assert.deepEqual(p, { x: 1000 - PLAYER_RADIUS, y: 600 - PLAYER_RADIUS });
  p = { x: 20, y: 20 };
  for (let i = 0; i < 10; i++) p = step(p, { moveX: -1, moveY: -1 });
  assert.deepEqual(p, { x: 16, y: 16 });
});

test('world size from the state overrides the default', () => {
  const p = step({ x: 90, y: 50 }, { moveX: 1, moveY: 0 }, { width: 100, height: 100 });
  assert.equal(p.x, 84);
});

/** Inputs as the SDK's room handle lists them (`Room#unacked`): `{seq, input}`, oldest first. */
const pendingOf = (/** @type {object[]} */ inputs, first = 1) => inputs.map((input, i) => ({ seq: first + i, input }));

test('applyInput predicts once the position is known', () => {
  let pr = createPredictor();
  pr = applyInput(pr, { moveX: 1, moveY: 0 });
  assert.equal(pr.known, false);
  assert.equal(pr.x, 0); // nothing to predict from yet
  // the input is still pending at the first state: replayed on top of the server position
  pr = reconcile(pr, { x: 100, y: 100 }, pendingOf([{ moveX: 1, moveY: 0 }]));
  close(pr.x, 100 + SPEED * DT);
  pr = applyInput(pr, { moveX: 1, moveY: 0 });
  close(pr.x, 100 + 2 * SPEED * DT);
});

test('reconcile replays the inputs still pending from the server position', () => {
  const right = { moveX: 1, moveY: 0 };
  let pr = reconcile(createPredictor(), { x: 200, y: 200 }, []);
  for (let s = 1; s <= 5; s++) pr = applyInput(pr, right);
  close(pr.x, 200 + 5 * SPEED * DT);
  // The server processed 3 inputs, but (say) was blocked a bit: it reports x = 210.
  pr = reconcile(pr, { x: 210, y: 200 }, pendingOf([right, right], 4));
  close(pr.x, 210 + 2 * SPEED * DT);
  // Everything acked: exactly the server position.
  pr = reconcile(pr, { x: 230, y: 201 }, []);
  assert.deepEqual(pr, { x: 230, y: 201, known: true });
});

test('a perfect server agrees with the prediction: no correction', () => {
  let server = { x: 500, y: 300 };
  let pr = reconcile(createPredictor(), server, []);
  const inputs = [
    { moveX: 1, moveY: 0 },
    { moveX: 1, moveY: 1, sprint: true },
    { moveX: 0, moveY: -1 },
    { moveX: -1, moveY: 1 },
  ];
  for (const i of inputs) pr = applyInput(pr, i);
  const predicted = { x: pr.x, y: pr.y };
  // The server processes the first two, then the rest, one per tick.
  server = step(step(server, inputs[0]), inputs[1]);
  pr = reconcile(pr, server, pendingOf(inputs.slice(2), 3));
  close(pr.x, predicted.x, 1e-9);
  close(pr.y, predicted.y, 1e-9);
  server = step(step(server, inputs[2]), inputs[3]);
  pr = reconcile(pr, server, []);
  close(pr.x, predicted.x, 1e-9);
  close(pr.y, predicted.y, 1e-9);
});

test('an input the server dropped is not replayed: the server position wins', () => {
  const up = { moveX: 0, moveY: -1 };
  let pr = reconcile(createPredictor(), { x: 100, y: 100 }, []);
  pr = applyInput(pr, up);
  pr = applyInput(pr, up);
  // the server named input 1 as dropped (the SDK took it out) and processed none yet
  pr = reconcile(pr, { x: 100, y: 100 }, pendingOf([up], 2));
  close(pr.y, 100 - SPEED * DT);
});

test('frozen (dead or intermission): no replay, no local movement', () => {
  let pr = reconcile(createPredictor(), { x: 100, y: 100 }, []);
  pr = applyInput(pr, { moveX: 1, moveY: 0 }, { frozen: true });
  assert.equal(pr.x, 100);
  pr = reconcile(pr, { x: 100, y: 100 }, pendingOf([{ moveX: 1, moveY: 0 }]), { frozen: true });
  assert.equal(pr.x, 100);
});

test('reconcile and applyInput are pure', () => {
  const pr = Object.freeze({ x: 1, y: 2, known: true });
  const pending = Object.freeze(pendingOf([{ moveX: 1, moveY: 0 }]));
  const out = reconcile(pr, { x: 50, y: 50 }, pending);
  assert.notEqual(out, pr);
  assert.equal(pr.x, 1);
  assert.notEqual(applyInput(pr, { moveX: 1, moveY: 0 }), pr);
  assert.equal(pr.x, 1);
});

test('corrections are smoothed, big jumps snap', () => {
  let err = addCorrection({ x: 0, y: 0 }, { x: 105, y: 100 }, { x: 100, y: 100 });
  assert.deepEqual(err, { x: 5, y: 0 });
  err = decayError(err, 100, 100);
  close(err.x, 5 * Math.exp(-1));
  err = decayError(err, 10_000, 100);
  assert.deepEqual(err, { x: 0, y: 0 });
  assert.deepEqual(addCorrection({ x: 0, y: 0 }, { x: 900, y: 100 }, { x: 100, y: 100 }), { x: 0, y: 0 });
});
