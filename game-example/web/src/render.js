// Canvas drawing. Stateless apart from the canvas it is given: each frame
// draws a `scene` object built by main.js.

import { PLAYER_RADIUS } from './predict.js';
import { playerColor, displayName, formatClock } from './model.js';

const PROJECTILE_RADIUS = 4;

/** Sizes the canvas backing store to its CSS box × devicePixelRatio. */
export function fitCanvas(canvas, worldW, worldH) {
  const parent = canvas.parentElement;
  const maxW = parent ? parent.clientWidth : worldW;
  const maxH = parent ? parent.clientHeight : worldH;
  let cssW = Math.max(100, maxW);
  let cssH = (cssW * worldH) / worldW;
  if (cssH > maxH && maxH > 50) {
    cssH = maxH;
    cssW = (cssH * worldW) / worldH;
  }
  const dpr = (typeof window !== 'undefined' && window.devicePixelRatio) || 1;
  const w = Math.round(cssW * dpr);
  const h = Math.round(cssH * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = `${Math.round(cssW)}px`;
    canvas.style.height = `${Math.round(cssH)}px`;
  }
}

/** Maps a mouse position (client coordinates) to world coordinates. */
export function clientToWorld(canvas, worldW, worldH, clientX, clientY) {
  const r = canvas.getBoundingClientRect();
  return {
    x: ((clientX - r.left) / Math.max(1, r.width)) * worldW,
    y: ((clientY - r.top) / Math.max(1, r.height)) * worldH,
  };
}

/**
 * scene: { width, height, me: {x, y} | null, myId, myName, players (drawn
 * positions, own included), pickups, projectiles, round, aim: {x, y} | null,
 * connected, status }
 */
export function draw(ctx, scene) {
  const { canvas } = ctx;
  const W = scene.width;
  const H = scene.height;
  const k = canvas.width / W;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#0f1218';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(k, 0, 0, k, 0, 0);

  drawFloor(ctx, W, H);
  for (const p of scene.pickups) drawPickup(ctx, p, scene.time);
  const colors = new Map();
  for (const p of scene.players) colors.set(p.id, playerColor(p));
  for (const p of scene.projectiles) drawProjectile(ctx, p, colors.get(p.owner) || '#fff');
  const me = scene.players.find((p) => p.id === scene.myId);
  if (me && me.alive && scene.aim) drawAim(ctx, me, scene.aim);
  // Others first, own player on top.
  for (const p of scene.players) if (p.id !== scene.myId) drawPlayer(ctx, p, colors.get(p.id), false, scene);
  if (me) drawPlayer(ctx, me, colors.get(me.id), true, scene);

  if (scene.round && scene.round.intermission) {
    banner(ctx, W, H, `Round ${scene.round.number} over`, `next round in ${formatClock(scene.round.remainingMs)}`);
  } else if (me && !me.alive) {
    banner(ctx, W, H, 'Eliminated', me.respawnMs === null ? 'respawning soon' : `respawn in ${(me.respawnMs / 1000).toFixed(1)} s`);
  }
  if (!scene.connected) banner(ctx, W, H, scene.status || 'connecting…', '');
}

function drawFloor(ctx, W, H) {
  ctx.fillStyle = '#171b24';
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = 'rgba(255,255,255,0.05)';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = 50; x < W; x += 50) {
    ctx.moveTo(x, 0);
    ctx.lineTo(x, H);
  }
  for (let y = 50; y < H; y += 50) {
    ctx.moveTo(0, y);
    ctx.lineTo(W, y);
  }
  ctx.stroke();
  ctx.strokeStyle = '#3a4356';
  ctx.lineWidth = 4;
  ctx.strokeRect(2, 2, W - 4, H - 4);
}

function drawPickup(ctx, p, time) {
  const pulse = 1 + 0.12 * Math.sin((time || 0) / 180 + p.id);
  ctx.save();
  ctx.translate(p.x, p.y);
  ctx.scale(pulse, pulse);
  switch (p.kind) {
    case 1: // COIN
      ctx.fillStyle = '#f5c542';
      ctx.strokeStyle = '#a77d12';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(0, 0, 8, 0, Math.PI * 2);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = '#a77d12';
      ctx.fillRect(-1.5, -4.5, 3, 9);
      break;
    case 2: // HEALTH
      ctx.fillStyle = '#e8f5e9';
      ctx.beginPath();
      ctx.arc(0, 0, 9, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#2eaa4f';
      ctx.fillRect(-6, -2, 12, 4);
      ctx.fillRect(-2, -6, 4, 12);
      break;
    case 3: // SPEED
      ctx.fillStyle = '#3dd6f5';
      ctx.beginPath();
      ctx.moveTo(2, -10);
      ctx.lineTo(-6, 2);
      ctx.lineTo(0, 2);
      ctx.lineTo(-2, 10);
      ctx.lineTo(6, -2);
      ctx.lineTo(0, -2);
      ctx.closePath();
      ctx.fill();
      break;
    default: // v1: kind unknown
      ctx.fillStyle = '#c9cfdb';
      ctx.beginPath();
      ctx.moveTo(0, -8);
      ctx.lineTo(8, 0);
      ctx.lineTo(0, 8);
      ctx.lineTo(-8, 0);
      ctx.closePath();
      ctx.fill();
  }
  ctx.restore();
}

function drawProjectile(ctx, p, color) {
  const speed = Math.hypot(p.vx || 0, p.vy || 0);
  if (speed > 1) {
    const tx = p.x - (p.vx / speed) * 14;
    const ty = p.y - (p.vy / speed) * 14;
    const g = ctx.createLinearGradient(tx, ty, p.x, p.y);
    g.addColorStop(0, 'rgba(255,255,255,0)');
    g.addColorStop(1, 'rgba(255,255,255,0.6)');
    ctx.strokeStyle = g;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(tx, ty);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
  }
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(p.x, p.y, PROJECTILE_RADIUS, 0, Math.PI * 2);
  ctx.fill();
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 1;
  ctx.stroke();
}

function drawAim(ctx, me, aim) {
  const dx = aim.x - me.x;
  const dy = aim.y - me.y;
  const d = Math.hypot(dx, dy);
  if (d < 1) return;
  ctx.strokeStyle = 'rgba(255,255,255,0.25)';
  ctx.setLineDash([6, 6]);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(me.x + (dx / d) * (PLAYER_RADIUS + 4), me.y + (dy / d) * (PLAYER_RADIUS + 4));
  ctx.lineTo(aim.x, aim.y);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.arc(aim.x, aim.y, 6, 0, Math.PI * 2);
  ctx.stroke();
}

function drawPlayer(ctx, p, color, mine, scene) {
  const r = PLAYER_RADIUS;
  ctx.save();
  ctx.globalAlpha = p.alive ? 1 : 0.3;
  if (mine) {
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.arc(p.x, p.y, r + 4, 0, Math.PI * 2);
    ctx.stroke();
  }
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(p.x, p.y, r, 0, Math.PI * 2);
  ctx.fill();
  ctx.strokeStyle = 'rgba(0,0,0,0.5)';
  ctx.lineWidth = 2;
  ctx.stroke();
  // Facing: velocity if moving.
  const speed = Math.hypot(p.vx || 0, p.vy || 0);
  if (speed > 1) {
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.beginPath();
    ctx.arc(p.x + (p.vx / speed) * (r - 6), p.y + (p.vy / speed) * (r - 6), 3.5, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.restore();

  // HP bar.
  if (p.alive) {
    const w = 34;
    const hp = Math.max(0, Math.min(100, p.hp)) / 100;
    ctx.fillStyle = 'rgba(0,0,0,0.6)';
    ctx.fillRect(p.x - w / 2, p.y - r - 12, w, 5);
    ctx.fillStyle = hp > 0.5 ? '#4cd964' : hp > 0.25 ? '#f5c542' : '#ff4d4d';
    ctx.fillRect(p.x - w / 2, p.y - r - 12, w * hp, 5);
  }
  // Name.
  ctx.font = '600 13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillStyle = mine ? '#ffffff' : 'rgba(230,235,245,0.85)';
  ctx.fillText(displayName(p, scene.myId, scene.myName), p.x, p.y + r + 5);
  if (!p.alive) {
    ctx.fillStyle = '#ff8080';
    ctx.fillText(p.respawnMs === null ? '✕' : `${Math.ceil(p.respawnMs / 1000)}`, p.x, p.y - 7);
  }
}

function banner(ctx, W, H, title, sub) {
  const cy = H * 0.22;
  ctx.fillStyle = 'rgba(8,10,14,0.5)';
  ctx.fillRect(0, cy - 40, W, 80);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#ffffff';
  ctx.font = '700 30px system-ui, sans-serif';
  ctx.fillText(title, W / 2, cy - (sub ? 12 : 0));
  if (sub) {
    ctx.font = '400 16px system-ui, sans-serif';
    ctx.fillStyle = '#c9cfdb';
    ctx.fillText(sub, W / 2, cy + 20);
  }
}
