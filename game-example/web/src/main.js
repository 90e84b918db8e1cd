// Wiring: network → model → prediction / interpolation → canvas and HUD.

import { connectArena, tokensFromQuery, HandshakeRefusedError, ALL_TOKENS } from './net.js';
import { serversFromQuery } from './servers.js';
import {
  createPredictor,
  applyInput,
  reconcile,
  addCorrection,
  decayError,
  WORLD_W,
  WORLD_H,
  SPEED,
  SPRINT_SPEED,
} from './predict.js';
import { updateClock, renderTick, pushSnapshot, sample, prune, DEFAULT_DELAY_MS } from './interp.js';
import { draw, fitCanvas, clientToWorld } from './render.js';
import { createInput, isIdle, sameIntent } from './input.js';
import {
  splitOutput,
  normalizeState,
  normalizeEvent,
  playerColor,
  displayName,
  formatClock,
  EVENT_NAMES,
  percentile,
} from './model.js';

const FRAME_SAMPLES = 600;
const FEED_LEN = 8;

const params = new URLSearchParams(location.search);
const tokens = tokensFromQuery(params);
const servers = serversFromQuery(params, location);
if (servers.ignored.length) {
  console.warn(`arena: ?servers= takes ws:// and wss:// URLs only; ignored: ${servers.ignored.join(', ')}`);
}
const myName = (params.get('name') || '').slice(0, 24);

const canvas = document.getElementById('game');
const ctx = canvas.getContext('2d');
const hud = {
  token: document.getElementById('hud-token'),
  server: document.getElementById('hud-server'),
  rtt: document.getElementById('hud-rtt'),
  tick: document.getElementById('hud-tick'),
  players: document.getElementById('hud-players'),
  round: document.getElementById('hud-round'),
  scores: document.getElementById('scores'),
  feed: document.getElementById('feed'),
  status: document.getElementById('hud-status'),
};

// ---- client state -------------------------------------------------------
const g = {
  net: null,
  connected: false,
  status: 'connecting…',
  token: null,
  version: 0,
  room: null,
  handle: null, // the SDK's Room handle of our seat
  myId: 0,
  tickHz: 30,
  tickMs: 1000 / 30,
  tick: 0,
  rtt: null,
  latest: null, // normalized latest state
  snapshots: [],
  clock: null,
  pred: createPredictor(),
  predPrev: null, // {x, y} before the last local step (for drawing between ticks)
  predAt: 0, // performance.now() of the last local step
  err: { x: 0, y: 0 },
  lastSent: null,
  boostUntil: 0, // performance.now() until which a SPEED boost runs
  pickupKinds: new Map(), // pickup id → kind, to recognise our SPEED pickups
  lastAcked: null, // the last input the server acknowledged
  feed: [],
  frameTimes: [],
  frameWork: [],
};

const api = {
  token: null,
  myId: 0,
  tick: 0,
  players: [],
  frameTimes: g.frameTimes,
  frameWorkMs: g.frameWork,
  connected: false,
  servers: servers.urls, // the URLs the page plays on, in failover order
  url: null, // the one it is (or was last) connected to
  session: null, // the session id (a resume keeps it)
  room: null,
  version: 0,
  rttMs: null,
  seq: 0, // the room handle's last input seq sent …
  ack: 0, // … and acknowledged
  me: null, // own position as drawn (prediction + smoothing)
  pred: null, // own predicted position
  corrections: { count: 0, max: 0 }, // reconciliation corrections > 0.5 u
  events: [],
  // every reliable message (room seq and event text), for tests; bounded
  messages: [],
  statuses: [], // every status text shown, in order (bounded)
  resumes: [], // the SDK's `resumed` events
  status: 'connecting…',
  error: null,
  stats() {
    return {
      frames: g.frameTimes.length,
      p50: percentile(g.frameTimes, 50),
      p95: percentile(g.frameTimes, 95),
      p99: percentile(g.frameTimes, 99),
    };
  },
  // the SDK's counts of states received whole, as deltas and compressed (Client#stats), null before connecting
  stateStats() {
    return g.net ? g.net.client.stats : null;
  },
  // what the server's Welcome said of compression ('deflate' or null; Client#compression), null before connecting
  compression() {
    return g.net ? g.net.client.compression : null;
  },
};
window.__arena = api;

function world() {
  const s = g.latest;
  return { w: (s && s.width) || WORLD_W, h: (s && s.height) || WORLD_H };
}

function me() {
  return g.latest ? g.latest.players.find((p) => p.id === g.myId) || null : null;
}

function predictOpts() {
  const m = me();
  const s = g.latest;
  const { w, h } = world();
  return {
    width: w,
    height: h,
    sprintAllowed: g.version >= 2,
    boost: g.version >= 2 && performance.now() < g.boostUntil,
    frozen: !!(m && !m.alive) || !!(s && s.round.intermission),
  };
}

// ---- input ----------------------------------------------------------------
const input = createInput(window, canvas, (cx, cy) => {
  const { w, h } = world();
  return clientToWorld(canvas, w, h, cx, cy);
});

function drawnOwnPos(now) {
  if (!g.pred.known) return null;
  const prev = g.predPrev || g.pred;
  const a = Math.min(1, Math.max(0, (now - g.predAt) / g.tickMs));
  return {
    x: prev.x + (g.pred.x - prev.x) * a + g.err.x,
    y: prev.y + (g.pred.y - prev.y) * a + g.err.y,
  };
}

function inputTick() {
  if (!g.net || !g.connected || g.room === null) return;
  const now = performance.now();
  const i = input.sample(drawnOwnPos(now));
  if (g.version < 2) i.sprint = false;
  // An idle client sends nothing: the server keeps the last intent, which
  // was idle too. Any change, and every tick of a held intent, is sent.
  if (isIdle(i) && g.lastSent && isIdle(g.lastSent) && sameIntent(i, g.lastSent)) return;
  if (isIdle(i) && !g.lastSent) return;
  const seq = g.net.sendInput(i);
  if (seq === null) return; // not sent (reconnecting): nothing to predict either
  g.lastSent = i;
  g.predPrev = { x: g.pred.x, y: g.pred.y };
  g.predAt = now;
  g.pred = applyInput(g.pred, i, predictOpts());
  api.seq = seq;
}

// ---- network ------------------------------------------------------------
function onJoined(j) {
  g.room = j.room;
  g.handle = j.handle;
  g.myId = j.myId;
  g.tickHz = j.tickHz;
  g.tickMs = 1000 / j.tickHz;
  g.token = j.token;
  g.version = j.version;
  g.pred = createPredictor();
  g.predPrev = null;
  g.err = { x: 0, y: 0 };
  // A (re)join starts a new timeline: another room, or the same room with
  // another client id; its ticks may be lower than the old room's.
  g.latest = null;
  g.tick = 0;
  g.pickupKinds.clear();
  g.snapshots = [];
  g.clock = null;
  g.lastSent = null;
  g.lastAcked = null;
  g.boostUntil = 0;
  g.connected = true;
  Object.assign(api, { token: j.token, myId: j.myId, room: j.room, version: j.version, connected: true });
  Object.assign(api, { tick: 0, players: [], seq: 0, ack: 0, pred: null, me: null });
  hud.token.textContent = j.token;
  restartInputTimer();
}

function onState(s) {
  const out = splitOutput(s.payload);
  if (out.event) return onEvent(out.event);
  if (!out.state) return;
  const st = normalizeState(out.state);
  const tick = Number(s.tick);
  if (g.latest && tick < g.tick) return; // older than what we have
  g.latest = st;
  g.tick = tick;
  g.clock = updateClock(g.clock, tick, s.recvMs, g.tickMs);
  g.snapshots = pushSnapshot(g.snapshots, { tick, players: st.players, projectiles: st.projectiles });
  for (const p of st.pickups) g.pickupKinds.set(p.id, p.kind);
  if (g.pickupKinds.size > 64) g.pickupKinds.delete(g.pickupKinds.keys().next().value);

  const m = st.players.find((p) => p.id === g.myId);
  if (m) {
    const acked = s.acked || []; // none for a state that came as a message
    if (acked.length) g.lastAcked = acked[acked.length - 1].input;
    // A SPEED boost is not in the state; besides the PICKED_UP event (see
    // onEvent), |v| = 340 without sprint in the input the server used shows it.
    const speed = Math.hypot(m.vx, m.vy);
    if (g.version >= 2 && m.alive && speed > (SPEED + SPRINT_SPEED) / 2 && !(g.lastAcked && g.lastAcked.sprint)) {
      g.boostUntil = Math.max(g.boostUntil, s.recvMs + 2 * g.tickMs);
    }
    const before = { x: g.pred.x, y: g.pred.y };
    const wasKnown = g.pred.known;
    g.pred = reconcile(g.pred, m, g.handle.unacked, predictOpts());
    if (wasKnown) {
      const d = Math.hypot(g.pred.x - before.x, g.pred.y - before.y);
      if (d > 0.5) {
        api.corrections.count += 1;
        api.corrections.max = Math.max(api.corrections.max, d);
      }
      g.err = addCorrection(g.err, before, g.pred);
      if (g.err.x === 0 && g.err.y === 0) {
        g.predPrev = null; // a jump: draw the new position at once
      } else if (g.predPrev) {
        g.predPrev = { x: g.predPrev.x + g.pred.x - before.x, y: g.predPrev.y + g.pred.y - before.y };
      }
    }
    api.ack = g.handle.ackedSeq;
    api.pred = { x: g.pred.x, y: g.pred.y };
  }
  api.tick = tick;
  api.players = st.players.map((p) => ({ id: p.id, x: p.x, y: p.y, name: displayName(p, g.myId, myName), score: p.score }));
}

const BOOST_MS = 4000;
const EV_ELIMINATED = 4;
const EV_PICKED_UP = 5;
const EV_ROUND_STARTED = 6;
const PICKUP_SPEED = 3;

function onEvent(raw) {
  const e = normalizeEvent(raw);
  if (e.kind === EV_PICKED_UP && e.actor === g.myId && g.pickupKinds.get(e.target) === PICKUP_SPEED) {
    g.boostUntil = performance.now() + BOOST_MS + g.tickMs;
  } else if (e.kind === EV_ROUND_STARTED || (e.kind === EV_ELIMINATED && e.target === g.myId)) {
    g.boostUntil = 0;
  }
  g.feed.unshift({ ...e, at: Date.now() });
  if (g.feed.length > FEED_LEN) g.feed.length = FEED_LEN;
  api.events.push(e.text);
  if (api.events.length > 50) api.events.shift();
  renderFeed();
}

const LOG_LEN = 5000;

function onMessage(m) {
  const out = splitOutput(m.payload);
  api.messages.push({ seq: Number(m.seq), text: out.event ? out.event.text : '' });
  if (api.messages.length > LOG_LEN) api.messages.shift();
  if (out.event) onEvent(out.event);
  else if (out.state) onState({ ...m, tick: g.tick, acks: [], recvMs: performance.now() });
}

function onStatus(st) {
  if (st.connected !== undefined) {
    g.connected = st.connected;
    api.connected = st.connected;
  }
  g.status = st.text;
  api.status = st.text;
  api.statuses.push(st.text);
  if (api.statuses.length > 100) api.statuses.shift();
  if (st.session) api.session = st.session;
  if (st.url) {
    api.url = st.url;
    hud.server.textContent = new URL(st.url).host;
  }
  hud.status.textContent = st.text;
  hud.status.className = g.connected ? 'ok' : 'bad';
}

function onResumed(r) {
  api.resumes.push({ session: r.session, replayed: r.replayed, resync: r.resync });
}

let inputTimer = null;
function restartInputTimer() {
  if (inputTimer) clearInterval(inputTimer);
  inputTimer = setInterval(inputTick, g.tickMs);
}

async function pingLoop() {
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    if (!g.net || !g.connected) continue;
    try {
      const rtt = await g.net.ping();
      g.rtt = Number(rtt);
      api.rttMs = g.rtt;
    } catch {
      // disconnected meanwhile; the status handler shows it
    }
  }
}

async function start() {
  hud.token.textContent = tokens.length === 1 ? `${tokens[0]} (forced)` : 'negotiating…';
  const unknown = tokens.filter((t) => !ALL_TOKENS.includes(t));
  if (unknown.length) {
    const text = `this client cannot speak ${unknown.join(', ')}; it speaks ${ALL_TOKENS.join(', ')}`;
    api.error = text;
    onStatus({ connected: false, text });
    return;
  }
  try {
    g.net = await connectArena({
      urls: servers.urls,
      tokens,
      name: myName,
      on: { joined: onJoined, state: onState, message: onMessage, status: onStatus, resumed: onResumed },
    });
    pingLoop();
  } catch (e) {
    const text =
      e instanceof HandshakeRefusedError
        ? `server refused ${tokens.join(', ')}: ${e.message}`
        : `cannot connect: ${e && e.message ? e.message : e}`;
    api.error = text;
    onStatus({ connected: false, text });
  }
}

// ---- HUD ------------------------------------------------------------------
let lastHud = 0;
function renderHud(now) {
  if (now - lastHud < 200) return;
  lastHud = now;
  hud.rtt.textContent = g.rtt === null ? '–' : `${g.rtt.toFixed(1)} ms`;
  hud.tick.textContent = String(g.tick);
  const s = g.latest;
  hud.players.textContent = s ? String(s.players.length) : '–';
  if (s) {
    const r = s.round;
    hud.round.textContent = r.intermission
      ? `intermission ${formatClock(r.remainingMs)}`
      : `${r.number ? `#${r.number} ` : ''}${formatClock(r.remainingMs)}`;
    const rows = [...s.players].sort((a, b) => b.score - a.score || a.id - b.id);
    hud.scores.replaceChildren(
      ...rows.map((p) => {
        const li = document.createElement('li');
        if (p.id === g.myId) li.className = 'me';
        const dot = document.createElement('span');
        dot.className = 'dot';
        dot.style.background = playerColor(p);
        const name = document.createElement('span');
        name.className = 'name';
        name.textContent = displayName(p, g.myId, myName) + (p.alive ? '' : ' ☠');
        const score = document.createElement('span');
        score.className = 'score';
        score.textContent = String(p.score);
        li.append(dot, name, score);
        return li;
      }),
    );
  }
}

function renderFeed() {
  hud.feed.replaceChildren(
    ...g.feed.map((e) => {
      const li = document.createElement('li');
      li.textContent = e.text;
      const kind = EVENT_NAMES[e.kind];
      if (kind) li.dataset.kind = kind.toLowerCase();
      return li;
    }),
  );
}

// ---- frame loop ---------------------------------------------------------
let lastFrame = 0;
function frame(now) {
  requestAnimationFrame(frame);
  if (lastFrame) {
    g.frameTimes.push(now - lastFrame);
    if (g.frameTimes.length > FRAME_SAMPLES) g.frameTimes.shift();
  }
  const dt = lastFrame ? now - lastFrame : 0;
  lastFrame = now;
  const t0 = performance.now();

  const { w, h } = world();
  fitCanvas(canvas, w, h);
  g.err = decayError(g.err, dt);

  const s = g.latest;
  let players = [];
  let projectiles = [];
  if (s && g.clock) {
    const t = renderTick(g.clock, now, DEFAULT_DELAY_MS);
    const v = sample(g.snapshots, t);
    g.snapshots = prune(g.snapshots, t - 2);
    players = v.players.filter((p) => p.id !== g.myId);
    projectiles = v.projectiles;
    const m = s.players.find((p) => p.id === g.myId);
    const pos = drawnOwnPos(now);
    if (m && pos) players.push({ ...m, x: pos.x, y: pos.y });
    api.me = pos;
  }
  draw(ctx, {
    width: w,
    height: h,
    time: now,
    myId: g.myId,
    myName,
    players,
    pickups: s ? s.pickups : [],
    projectiles,
    round: s ? s.round : null,
    aim: input.mouse.inside ? { x: input.mouse.x, y: input.mouse.y } : null,
    connected: g.connected && !!s,
    status: g.status,
  });
  renderHud(now);

  g.frameWork.push(performance.now() - t0);
  if (g.frameWork.length > FRAME_SAMPLES) g.frameWork.shift();
}

requestAnimationFrame(frame);
start();
