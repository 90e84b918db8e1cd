// Snapshot interpolation of everything the client does not predict (other
// players, projectiles), drawn ~100 ms in the past between the two server
// states that bracket that moment.
//
// Pure functions only. Time is measured in server ticks: a snapshot is
// `{tick, players, projectiles}`, and a clock maps local milliseconds to the
// server's tick timeline (the room ticks at start + k/tickHz without drift,
// and may skip ticks, so the tick number, not the arrival order, is the
// timestamp).

export const DEFAULT_DELAY_MS = 100;

/**
 * Clock estimate: `offsetMs` such that a state of tick `t` is "due" locally
 * at `t * tickMs + offsetMs`. A fresh sample lower than the estimate (a
 * state that arrived with less delay) is adopted at once; a higher one pulls
 * the estimate up slowly, so network jitter does not shake the timeline but
 * a lasting change of path delay is followed.
 */
export function updateClock(clock, tick, recvMs, tickMs, relax = 0.02) {
  const sample = recvMs - Number(tick) * tickMs;
  if (!clock || clock.offsetMs === undefined || clock.tickMs !== tickMs) {
    return { offsetMs: sample, tickMs };
  }
  if (sample < clock.offsetMs) return { offsetMs: sample, tickMs };
  // A jump far beyond any jitter (room restarted, long stall): resync.
  if (sample - clock.offsetMs > 1000) return { offsetMs: sample, tickMs };
  return { offsetMs: clock.offsetMs + (sample - clock.offsetMs) * relax, tickMs };
}

/** The (fractional) server tick to draw at local time `nowMs`. */
export function renderTick(clock, nowMs, delayMs = DEFAULT_DELAY_MS) {
  return (nowMs - clock.offsetMs - delayMs) / clock.tickMs;
}

/**
 * Adds a snapshot, keeping the buffer sorted by tick, without duplicates,
 * and at most `max` long. Returns a new array.
 */
export function pushSnapshot(buffer, snap, max = 32) {
  const t = Number(snap.tick);
  const out = buffer.filter((s) => Number(s.tick) !== t);
  let i = out.length;
  while (i > 0 && Number(out[i - 1].tick) > t) i--;
  out.splice(i, 0, snap);
  return out.length > max ? out.slice(out.length - max) : out;
}

function lerp(a, b, f) {
  return a + (b - a) * f;
}

/**
 * Interpolates two lists of entities (`{id, x, y, ...}`) by id. Entities in
 * both are blended (other fields come from the newer one); entities only in
 * the newer list appear at their newer position; entities only in the older
 * list (gone) are dropped. A jump longer than `snapDistance` (respawn) is
 * not blended.
 */
export function lerpEntities(older, newer, f, snapDistance = 150) {
  const prev = new Map();
  for (const e of older) prev.set(e.id, e);
  const out = [];
  for (const e of newer) {
    const p = prev.get(e.id);
    if (!p || Math.hypot(e.x - p.x, e.y - p.y) > snapDistance) {
      out.push({ ...e });
    } else {
      out.push({ ...e, x: lerp(p.x, e.x, f), y: lerp(p.y, e.y, f) });
    }
  }
  return out;
}

/**
 * The interpolated view at (fractional) tick `t`: `{players, projectiles,
 * tick, alpha, mode}`. mode is 'interp' (between two snapshots), 'hold'
 * (before the first or after the last buffered snapshot: that snapshot is
 * shown as is) or 'empty'.
 */
export function sample(buffer, t) {
  if (buffer.length === 0) return { players: [], projectiles: [], tick: t, alpha: 0, mode: 'empty' };
  const first = buffer[0];
  const last = buffer[buffer.length - 1];
  if (t <= Number(first.tick)) return view(first, first, 0, 'hold');
  if (t >= Number(last.tick)) return view(last, last, 0, 'hold');
  let i = buffer.length - 1;
  while (i > 0 && Number(buffer[i - 1].tick) > t) i--;
  const a = buffer[i - 1];
  const b = buffer[i];
  const span = Number(b.tick) - Number(a.tick);
  const f = span > 0 ? (t - Number(a.tick)) / span : 1;
  return view(a, b, f, 'interp');
}

function view(a, b, f, mode) {
  return {
    players: lerpEntities(a.players || [], b.players || [], f),
    projectiles: lerpEntities(a.projectiles || [], b.projectiles || [], f, 120),
    tick: Number(a.tick) + (Number(b.tick) - Number(a.tick)) * f,
    alpha: f,
    mode,
  };
}

/** Drops snapshots that can no longer be needed (keeps one older than `t`). */
export function prune(buffer, t) {
  let i = 0;
  while (i + 1 < buffer.length && Number(buffer[i + 1].tick) <= t) i++;
  return i > 0 ? buffer.slice(i) : buffer;
}
