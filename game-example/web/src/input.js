// Keyboard and mouse: WASD / arrow keys move, Shift sprints (v2), the mouse
// aims and a held left button (or Space) fires.

const LEFT = new Set(['KeyA', 'ArrowLeft']);
const RIGHT = new Set(['KeyD', 'ArrowRight']);
const UP = new Set(['KeyW', 'ArrowUp']);
const DOWN = new Set(['KeyS', 'ArrowDown']);
const GAME_KEYS = new Set([...LEFT, ...RIGHT, ...UP, ...DOWN, 'Space', 'ShiftLeft', 'ShiftRight']);

/**
 * Attaches listeners; `toWorld(clientX, clientY)` maps a mouse position to
 * world coordinates. Returns `{ sample(me), mouse, detach() }`, where
 * `sample(me)` gives the Input fields with the aim pointing from `me`
 * (`{x, y}`, the drawn own position) toward the mouse.
 */
export function createInput(target, canvas, toWorld) {
  const down = new Set();
  const mouse = { x: 0, y: 0, inside: false, buttons: false };

  const onKeyDown = (e) => {
    if (GAME_KEYS.has(e.code)) e.preventDefault();
    down.add(e.code);
  };
  const onKeyUp = (e) => {
    down.delete(e.code);
  };
  const onBlur = () => {
    down.clear();
    mouse.buttons = false;
  };
  const onMove = (e) => {
    const w = toWorld(e.clientX, e.clientY);
    mouse.x = w.x;
    mouse.y = w.y;
    mouse.inside = true;
  };
  const onDown = (e) => {
    if (e.button === 0) {
      mouse.buttons = true;
      onMove(e);
    }
  };
  const onUp = (e) => {
    if (e.button === 0) mouse.buttons = false;
  };
  const onContext = (e) => e.preventDefault();

  target.addEventListener('keydown', onKeyDown);
  target.addEventListener('keyup', onKeyUp);
  target.addEventListener('blur', onBlur);
  canvas.addEventListener('mousemove', onMove);
  canvas.addEventListener('mousedown', onDown);
  target.addEventListener('mouseup', onUp);
  canvas.addEventListener('contextmenu', onContext);

  const any = (set) => {
    for (const k of set) if (down.has(k)) return true;
    return false;
  };

  return {
    mouse,
    sample(me) {
      const moveX = (any(RIGHT) ? 1 : 0) - (any(LEFT) ? 1 : 0);
      const moveY = (any(DOWN) ? 1 : 0) - (any(UP) ? 1 : 0);
      let aimX = 1;
      let aimY = 0;
      if (me && mouse.inside) {
        const dx = mouse.x - me.x;
        const dy = mouse.y - me.y;
        if (Math.hypot(dx, dy) > 0.5) {
          aimX = dx;
          aimY = dy;
        }
      }
      return {
        moveX,
        moveY,
        sprint: down.has('ShiftLeft') || down.has('ShiftRight'),
        fire: mouse.buttons || down.has('Space'),
        aimX,
        aimY,
      };
    },
    detach() {
      target.removeEventListener('keydown', onKeyDown);
      target.removeEventListener('keyup', onKeyUp);
      target.removeEventListener('blur', onBlur);
      canvas.removeEventListener('mousemove', onMove);
      canvas.removeEventListener('mousedown', onDown);
      target.removeEventListener('mouseup', onUp);
      canvas.removeEventListener('contextmenu', onContext);
    },
  };
}

/** True when an input asks for nothing (no move, no fire). */
export function isIdle(i) {
  return i.moveX === 0 && i.moveY === 0 && !i.fire;
}

/** True when two inputs differ in anything the server acts on. */
export function sameIntent(a, b) {
  return !!a && !!b && a.moveX === b.moveX && a.moveY === b.moveY && a.sprint === b.sprint && a.fire === b.fire;
}
