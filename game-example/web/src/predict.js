// Client-side prediction and reconciliation of the local player's movement.
//
// Pure functions only: every function returns new values and never touches
// the DOM, the network or the clock, so they run unchanged under `node --test`.
//
// The movement rule is the server's (game-example/src): each tick
// v = normalize(moveX, moveY) * speed, pos += v * dt, then the position is
// clamped so the player's circle stays inside the world.

export const WORLD_W = 1000;
export const WORLD_H = 600;
export const PLAYER_RADIUS = 16;
export const SPEED = 220; // units per second
export const SPRINT_SPEED = 340; // units per second, v2 only
export const TICK_HZ = 30;

/** Clamps `v` into [lo, hi]. */
export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Clamps one axis value of an input to -1, 0 or 1 (the server's `axis`). */
function axis(v) {
  const n = Math.trunc(Number(v) || 0);
  return clamp(n, -1, 1);
}

/**
 * Velocity (units/s) for one input.
 * opts.sprintAllowed: false for schema v1 (no sprint); opts.boost: a SPEED
 * pickup is active (the server moves at sprint speed regardless of input).
 */
export function velocity(input, opts = {}) {
  const mx = axis(input && input.moveX);
  const my = axis(input && input.moveY);
  if (mx === 0 && my === 0) return { vx: 0, vy: 0 };
  const sprintAllowed = opts.sprintAllowed !== false;
  const fast = (sprintAllowed && !!(input && input.sprint)) || !!opts.boost;
  const speed = fast ? SPRINT_SPEED : SPEED;
  const len = Math.hypot(mx, my);
  return { vx: (mx / len) * speed, vy: (my / len) * speed };
}

/**
 * One tick of movement: returns the new `{x, y}`.
 * opts: dt (s, default 1/TICK_HZ), width/height (world size, default
 * 1000 x 600), radius (default 16), sprintAllowed, boost.
 */
export function step(pos, input, opts = {}) {
  const dt = opts.dt ?? 1 / TICK_HZ;
  const w = opts.width || WORLD_W;
  const h = opts.height || WORLD_H;
  const r = opts.radius ?? PLAYER_RADIUS;
  const { vx, vy } = velocity(input, opts);
  return {
    x: clamp(pos.x + vx * dt, r, w - r),
    y: clamp(pos.y + vy * dt, r, h - r),
  };
}

/** A fresh predictor: no position known yet. */
export function createPredictor() {
  return { x: 0, y: 0, known: false };
}

/**
 * Advances the predicted position by one tick for an input the client has
 * just sent (unless the position is not known yet, or `opts.frozen`: dead,
 * or between rounds, when the server moves nobody). The SDK's room handle
 * keeps the input until the server has processed it.
 */
export function applyInput(pred, input, opts = {}) {
  if (!pred.known || opts.frozen) return pred;
  const p = step(pred, input, opts);
  return { ...pred, x: p.x, y: p.y };
}

/**
 * Reconciles with an authoritative state: `server` is the local player's
 * `{x, y}` in that state, `pending` the inputs the server has not processed
 * yet, oldest first (`Room#unacked` of the SDK: `{seq, input}`; acked and
 * dropped ones are gone from it). Resets to the server position and
 * replays them with the movement rule.
 */
export function reconcile(pred, server, pending, opts = {}) {
  let pos = { x: server.x, y: server.y };
  if (!opts.frozen) {
    for (const p of pending) pos = step(pos, p.input, opts);
  }
  return { x: pos.x, y: pos.y, known: true };
}

/**
 * Visual smoothing of corrections. `err` is the offset (drawn = predicted +
 * err) left by the last reconciliation; it decays exponentially with time
 * constant `tauMs`. Large jumps (respawn, teleport) are not smoothed.
 */
export function addCorrection(err, before, after, snapDistance = 80) {
  const ex = err.x + (before.x - after.x);
  const ey = err.y + (before.y - after.y);
  if (Math.hypot(ex, ey) > snapDistance) return { x: 0, y: 0 };
  return { x: ex, y: ey };
}

export function decayError(err, dtMs, tauMs = 100) {
  const k = Math.exp(-Math.max(0, dtMs) / tauMs);
  const x = err.x * k;
  const y = err.y * k;
  if (Math.abs(x) < 0.01 && Math.abs(y) < 0.01) return { x: 0, y: 0 };
  return { x, y };
}
