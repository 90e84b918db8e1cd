// Turns a decoded arena Output (v1 or v2, as the SDK hands it over:
// camelCase fields) into one shape the rest of the client uses. Pure.

export const PICKUP_NAMES = ['UNKNOWN', 'COIN', 'HEALTH', 'SPEED'];
export const EVENT_NAMES = ['', 'JOINED', 'LEFT', 'HIT', 'ELIMINATED', 'PICKED_UP', 'ROUND_STARTED', 'ROUND_ENDED'];

const PICKUP_BY_NAME = { PICKUP_KIND_UNSPECIFIED: 0, COIN: 1, HEALTH: 2, SPEED: 3 };
const EVENT_BY_NAME = Object.fromEntries(EVENT_NAMES.map((n, i) => [n || 'EVENT_KIND_UNSPECIFIED', i]));

/** A number from whatever the decoder produced (number, bigint, Long, string). */
export function num(v, dflt = 0) {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && typeof v.toNumber === 'function') return v.toNumber();
  const n = Number(v);
  return Number.isFinite(n) ? n : dflt;
}

/** An enum value given as a number or as its name. */
export function enumValue(v, byName) {
  if (typeof v === 'string') return byName[v] ?? (Number(v) || 0);
  return num(v);
}

/** The schema version of a token `arena.v2.proto` → 2. */
export function tokenVersion(token) {
  const m = /\.v(\d+)\./.exec(token || '');
  return m ? Number(m[1]) : 0;
}

/** Output → {state} | {event} | {} (unknown or empty kind: ignore). */
export function splitOutput(payload) {
  const kind = payload && payload.kind;
  if (!kind) return {};
  if (kind.state) return { state: kind.state };
  if (kind.event) return { event: kind.event };
  // Some decoders flatten a oneof as {kind: 'state', state: {...}}.
  if (typeof kind === 'string' && payload[kind]) return { [kind]: payload[kind] };
  return {};
}

export function normalizeState(s) {
  const players = (s.players || []).map((p) => ({
    id: num(p.id),
    x: num(p.x),
    y: num(p.y),
    score: num(p.score),
    vx: num(p.vx),
    vy: num(p.vy),
    name: p.name || '',
    hp: p.hp === undefined ? 100 : num(p.hp),
    alive: p.alive === undefined ? true : !!p.alive,
    respawnMs: p.respawnMs === undefined ? null : num(p.respawnMs), // v1: not sent
    color: p.color === undefined ? null : num(p.color),
  }));
  const pickups = (s.pickups || []).map((p) => ({
    id: num(p.id),
    x: num(p.x),
    y: num(p.y),
    kind: enumValue(p.kind, PICKUP_BY_NAME),
  }));
  const projectiles = (s.projectiles || []).map((p) => ({
    id: num(p.id),
    x: num(p.x),
    y: num(p.y),
    vx: num(p.vx),
    vy: num(p.vy),
    owner: num(p.owner),
  }));
  let round;
  if (s.round) {
    round = { number: num(s.round.number), remainingMs: num(s.round.remainingMs), intermission: !!s.round.intermission };
  } else {
    round = { number: 0, remainingMs: num(s.roundRemainingMs), intermission: false };
  }
  return { width: num(s.width), height: num(s.height), players, pickups, projectiles, round };
}

export function normalizeEvent(e) {
  return {
    text: e.text || '',
    kind: enumValue(e.kind, EVENT_BY_NAME),
    actor: num(e.actor),
    target: num(e.target),
  };
}

/** A stable colour for players without one (v1): golden-angle hues. */
export function playerColor(p) {
  if (p.color !== null && p.color !== undefined && p.color !== 0) {
    return '#' + (p.color >>> 0).toString(16).padStart(6, '0').slice(-6);
  }
  const hue = Math.round((p.id * 137.508) % 360);
  return `hsl(${hue} 70% 58%)`;
}

export function displayName(p, myId, myName) {
  if (p.name) return p.name;
  if (p.id === myId && myName) return myName;
  return `P${p.id}`;
}

/** "1:05" from milliseconds. */
export function formatClock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Percentile (nearest rank) of an array of numbers. */
export function percentile(values, p) {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1];
}
