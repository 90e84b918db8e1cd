// The Playhouse monitor page: reads /monitor/api/* every second with the
// operator's credential as `Authorization: Bearer`, kept in this tab's
// sessionStorage only. Everything shown is set as text (never as HTML):
// user names and room states come from players.
//
// Refreshes are chained (the next is scheduled when one completes), never
// overlapping, and an answer that arrives after the operator moved on (a
// room closed, disposed or another one opened) is dropped. Table rows are
// updated in place, so a button under the pointer is the same element from
// mousedown to mouseup; clicks are read by one listener per table.
'use strict';

(() => {
  const KEY = 'playhouse-monitor-token';
  const REFRESH_MS = 1000;
  // How long a message (an error, "Kicked …") stays before a successful
  // refresh shows the normal status again.
  const NOTE_MS = 5000;
  const $ = (id) => document.getElementById(id);
  let selected = null; // the room whose detail is open (or being opened)
  let timer = null; // the next refresh, when one is scheduled
  let generation = 0; // bumped by start/stop: a refresh of an older one is stale
  let inFlight = 0; // refreshes under way (more than one only across a restart)
  let shownRoom = null; // the room whose detail the panel shows
  let again = false; // something asked for a refresh while one was in flight
  let noteUntil = 0;

  const token = () => sessionStorage.getItem(KEY) || '';

  function status(text, error = false) {
    $('status').textContent = text;
    $('status').className = error ? 'error' : '';
  }
  /** A message the next refreshes leave alone for NOTE_MS. */
  function note(text, error = false) {
    status(text, error);
    noteUntil = Date.now() + NOTE_MS;
  }

  async function api(path, method = 'GET') {
    const r = await fetch(`/monitor/api/${path}`, {
      method,
      headers: { Authorization: `Bearer ${token()}` },
      cache: 'no-store',
    });
    if (r.status === 401 || r.status === 403) {
      const why = (await r.text()).trim();
      stop();
      $('dash').hidden = true;
      const e = new Error(`${r.status}: ${why}`);
      e.refused = true;
      throw e;
    }
    if (!r.ok) throw new Error(`${r.status}: ${(await r.text()).trim()}`);
    return r.json();
  }

  /** A table cell, or a row of cells, holding text. */
  function cell(text) {
    const td = document.createElement('td');
    td.textContent = text == null ? '–' : String(text);
    return td;
  }
  function button(label, cls, data) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (cls) b.className = cls;
    Object.assign(b.dataset, data);
    return b;
  }
  // What each cell shows now, to leave unchanged cells (and their buttons) alone.
  const shown = new WeakMap();
  /**
   * Sets `tbody` to `rows` (arrays of text or nodes), in place: rows and
   * cells are reused and a cell is rewritten only when what it shows
   * changed, so a button keeps its element while its row stays the same.
   */
  function fill(tbody, rows) {
    while (tbody.rows.length > rows.length) tbody.lastElementChild.remove();
    rows.forEach((cells, i) => {
      const tr = tbody.rows[i] || tbody.appendChild(document.createElement('tr'));
      while (tr.cells.length > cells.length) tr.lastElementChild.remove();
      cells.forEach((c, j) => {
        const td = tr.cells[j] || tr.appendChild(document.createElement('td'));
        const isNode = c instanceof Node;
        const text = c == null ? '–' : String(c);
        const key = isNode ? `node:${c.outerHTML}` : `text:${text}`;
        if (shown.get(td) === key) return;
        shown.set(td, key);
        if (isNode) td.replaceChildren(c);
        else td.textContent = text;
      });
    });
  }
  const rtt = (c) => (c.rtt_ms == null ? 'RTT –' : `${c.rtt_ms.toFixed(1)} ms`);

  /** A line chart on `canvas` of `series` ([{label, color, values}]), by hand. */
  function chart(canvas, series, unit) {
    const ctx = canvas.getContext('2d');
    const w = canvas.width;
    const h = canvas.height;
    const pad = { l: 52, r: 6, t: 8, b: 16 };
    ctx.clearRect(0, 0, w, h);
    const all = series.flatMap((s) => s.values.filter((v) => v != null));
    const max = Math.max(1e-9, ...all) * 1.15;
    ctx.strokeStyle = '#2c333d';
    ctx.fillStyle = '#8a95a3';
    ctx.font = '10px system-ui, sans-serif';
    for (let i = 0; i <= 4; i++) {
      const y = pad.t + ((h - pad.t - pad.b) * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.l, y);
      ctx.lineTo(w - pad.r, y);
      ctx.stroke();
      ctx.fillText(fmt(max * (1 - i / 4), unit), 2, y + 3);
    }
    const n = Math.max(2, ...series.map((s) => s.values.length));
    const x = (i) => pad.l + ((w - pad.l - pad.r) * i) / (n - 1);
    const y = (v) => h - pad.b - ((h - pad.t - pad.b) * v) / max;
    series.forEach((s, k) => {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      s.values.forEach((v, i) => {
        if (v == null) {
          pen = false;
          return;
        }
        if (pen) ctx.lineTo(x(i), y(v));
        else ctx.moveTo(x(i), y(v));
        pen = true;
      });
      ctx.stroke();
      ctx.fillStyle = s.color;
      ctx.fillText(s.label, pad.l + 4 + k * 70, h - 3);
    });
    // The number of values drawn, for tests and curious operators.
    canvas.dataset.points = String(all.length);
  }
  function fmt(v, unit) {
    if (unit === 'B') {
      if (v >= 1e6) return `${(v / 1e6).toFixed(1)} MB`;
      if (v >= 1e3) return `${(v / 1e3).toFixed(1)} kB`;
      return `${v.toFixed(0)} B`;
    }
    return `${v.toFixed(v < 1 ? 3 : 1)} ${unit}`;
  }

  function render(o) {
    $('app').textContent = o.node ? `${o.app} · node ${o.node}` : o.app;
    $('connections').textContent = String(o.connections);
    fill($('types').tBodies[0], o.room_types.map((t) => [t.room_type, t.rooms, t.clients]));
    $('nodes-card').hidden = !o.nodes && !o.nodes_error;
    if (o.nodes) {
      fill(
        $('nodes').tBodies[0],
        o.nodes.map((n) => [n.node, Object.entries(n.rooms).map(([t, c]) => `${t}: ${c}`).join(', '), n.clients]),
      );
    } else if (o.nodes_error) {
      fill($('nodes').tBodies[0], [[o.nodes_error, '', '']]);
    }
    fill($('closes').tBodies[0], o.closes.map((c) => [c.code, c.meaning, c.count]));
    const pts = o.series;
    chart($('chart-lateness'), [{ label: 'lateness', color: '#4fb3ff', values: pts.map((p) => p.tick_lateness_ms) }], 'ms');
    chart($('chart-duration'), [{ label: 'duration', color: '#7ee07e', values: pts.map((p) => p.tick_duration_ms) }], 'ms');
    chart(
      $('chart-bytes'),
      [
        { label: 'in', color: '#4fb3ff', values: pts.map((p) => p.bytes_in_per_sec) },
        { label: 'out', color: '#ffb347', values: pts.map((p) => p.bytes_out_per_sec) },
      ],
      'B',
    );
    $('rooms-more').textContent = o.rooms_not_shown ? `(${o.rooms_not_shown} more not shown)` : '';
    fill(
      $('rooms').tBodies[0],
      o.rooms.map((r) => {
        const clients = document.createElement('span');
        clients.append(
          ...r.clients.map((c) => {
            const s = document.createElement('span');
            s.className = c.away ? 'client away' : 'client';
            s.textContent = `#${c.id}${c.user ? ` ${c.user}` : ''} (${rtt(c)})`;
            return s;
          }),
        );
        if (!r.clients.length) clients.textContent = 'none';
        return [r.id, r.room_type, r.tick, clients, button('Open', '', { room: r.id })];
      }),
    );
  }

  function renderRoom(d) {
    shownRoom = d.id;
    $('room').hidden = false;
    $('room-id').textContent = d.id;
    $('room-meta').textContent = `${d.room_type} · tick ${d.tick} · ${d.clients.length}/${d.max_clients} clients${d.locked ? ' · locked' : ''}${d.crashed ? ` · crashed: ${d.crashed}` : ''}`;
    fill(
      $('room-clients').tBodies[0],
      d.clients.map((c) => [
        c.id,
        c.session,
        c.user,
        c.protocol,
        c.away ? 'away' : rtt(c),
        c.last_input_seq,
        button('Kick', 'danger', { client: String(c.id) }),
      ]),
    );
    if (d.state) {
      // A room that broadcasts nothing shows one client's private view: say whose.
      const whose = d.state.view_of
        ? ` · view of client${d.state.view_of.length > 1 ? 's' : ''} ${d.state.view_of.join(', ')} only`
        : '';
      $('state-meta').textContent = `tick ${d.state.tick}, schema v${d.state.version}${whose}`;
      $('state').textContent = JSON.stringify(d.state.json, null, 2);
    } else {
      $('state-meta').textContent = '';
      $('state').textContent = d.state_note || 'no state';
    }
  }

  function closeRoom() {
    selected = null;
    shownRoom = null;
    $('room').hidden = true;
  }

  /** One refresh of the page; `gen` is the refresh chain it belongs to. */
  async function refresh(gen) {
    const current = () => gen === generation;
    try {
      const o = await api('overview');
      if (!current()) return;
      $('dash').hidden = false;
      render(o);
      const want = selected;
      if (want) {
        let d;
        try {
          d = await api(`rooms/${encodeURIComponent(want)}`);
        } catch (e) {
          if (!/^404/.test(e.message)) throw e;
          // Said only if that room is still the open one: after a Dispose
          // or a Close the operator already knows.
          if (current() && selected === want) {
            note(`Room ${want} is gone.`);
            closeRoom();
          }
          return;
        }
        // Dropped if the operator closed, disposed or switched rooms while
        // it was in flight: it would re-open a room they left.
        if (!current() || selected !== want) return;
        renderRoom(d);
      }
      if (Date.now() >= noteUntil) status(`Connected; refreshed ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      if (current() || e.refused) note(e.message, true);
    }
  }

  /** Runs a refresh, then schedules the next one when it has completed. */
  async function tick(gen) {
    timer = null;
    inFlight += 1;
    try {
      await refresh(gen);
    } finally {
      inFlight -= 1;
    }
    if (gen !== generation || timer) return;
    timer = setTimeout(() => tick(gen), again ? 0 : REFRESH_MS);
    again = false;
  }
  /** A refresh now (after an action), without overlapping one in flight. */
  function refreshSoon() {
    if (inFlight > 0) {
      again = true;
    } else if (timer) {
      clearTimeout(timer);
      tick(generation);
    }
  }

  function start() {
    stop();
    status('Connected');
    noteUntil = 0;
    tick(generation);
  }
  function stop() {
    generation += 1;
    if (timer) clearTimeout(timer);
    timer = null;
    again = false;
  }

  $('rooms').tBodies[0].addEventListener('click', (e) => {
    const b = e.target.closest('button[data-room]');
    if (!b) return;
    selected = b.dataset.room;
    refreshSoon();
  });
  $('room-clients').tBodies[0].addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-client]');
    // The room the panel shows (another may be opening).
    const room = shownRoom;
    if (!b || !room) return;
    const client = b.dataset.client;
    try {
      await api(`rooms/${encodeURIComponent(room)}/kick/${encodeURIComponent(client)}`, 'POST');
      note(`Kicked client ${client} of room ${room} (close 4005).`);
      refreshSoon();
    } catch (err) {
      note(`Kick failed: ${err.message}`, true);
    }
  });
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('token').value.trim());
    $('token').value = '';
    start();
  });
  $('logout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    stop();
    $('dash').hidden = true;
    status('Enter the monitor token (or an admin credential) to start.');
  });
  $('close-room').addEventListener('click', closeRoom);
  $('dispose').addEventListener('click', async () => {
    const id = selected;
    if (!id) return;
    try {
      await api(`rooms/${encodeURIComponent(id)}/dispose`, 'POST');
      note(`Disposed room ${id}.`);
      if (selected === id) closeRoom();
      refreshSoon();
    } catch (e) {
      note(`Dispose failed: ${e.message}`, true);
    }
  });

  if (token()) start();
})();
