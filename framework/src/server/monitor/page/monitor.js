// The Playhouse monitor page: reads /monitor/api/* every second with the
// operator's credential as `Authorization: Bearer`, kept in this tab's
// sessionStorage only. Everything shown is set as text (never as HTML):
// user names and room states come from players.
'use strict';

(() => {
  const KEY = 'playhouse-monitor-token';
  const REFRESH_MS = 1000;
  const $ = (id) => document.getElementById(id);
  let selected = null; // the room whose detail is open
  let timer = null;

  const token = () => sessionStorage.getItem(KEY) || '';

  function status(text, error = false) {
    $('status').textContent = text;
    $('status').className = error ? 'error' : '';
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
      throw new Error(`${r.status}: ${why}`);
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
  function button(label, onClick, cls) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    if (cls) b.className = cls;
    b.addEventListener('click', onClick);
    return b;
  }
  function fill(tbody, rows) {
    tbody.replaceChildren(
      ...rows.map((cells) => {
        const tr = document.createElement('tr');
        tr.append(...cells.map((c) => (c instanceof Node ? wrap(c) : cell(c))));
        return tr;
      }),
    );
  }
  function wrap(node) {
    if (node.tagName === 'TD') return node;
    const td = document.createElement('td');
    td.append(node);
    return td;
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
        const open = button('Open', () => {
          selected = r.id;
          refresh();
        });
        open.dataset.room = r.id;
        return [r.id, r.room_type, r.tick, clients, open];
      }),
    );
  }

  function renderRoom(d) {
    $('room').hidden = false;
    $('room-id').textContent = d.id;
    $('room-meta').textContent = `${d.room_type} · tick ${d.tick} · ${d.clients.length}/${d.max_clients} clients${d.locked ? ' · locked' : ''}${d.crashed ? ` · crashed: ${d.crashed}` : ''}`;
    fill(
      $('room-clients').tBodies[0],
      d.clients.map((c) => {
        const kick = button(
          'Kick',
          async () => {
            try {
              await api(`rooms/${encodeURIComponent(d.id)}/kick/${c.id}`, 'POST');
              status(`Kicked client ${c.id} of room ${d.id} (close 4005).`);
              refresh();
            } catch (e) {
              status(`Kick failed: ${e.message}`, true);
            }
          },
          'danger',
        );
        kick.dataset.client = String(c.id);
        return [c.id, c.session, c.user, c.protocol, c.away ? 'away' : rtt(c), c.last_input_seq, kick];
      }),
    );
    if (d.state) {
      $('state-meta').textContent = `tick ${d.state.tick}, schema v${d.state.version}`;
      $('state').textContent = JSON.stringify(d.state.json, null, 2);
    } else {
      $('state-meta').textContent = '';
      $('state').textContent = d.state_note || 'no state';
    }
  }

  async function refresh() {
    try {
      const o = await api('overview');
      $('dash').hidden = false;
      render(o);
      if (selected) {
        try {
          renderRoom(await api(`rooms/${encodeURIComponent(selected)}`));
        } catch (e) {
          if (/^404/.test(e.message)) {
            status(`Room ${selected} is gone.`);
            selected = null;
            $('room').hidden = true;
          } else throw e;
        }
      }
      if ($('status').className !== 'error' && /^(Connected|Enter)/.test($('status').textContent)) {
        status(`Connected; refreshed ${new Date().toLocaleTimeString()}`);
      }
    } catch (e) {
      status(e.message, true);
    }
  }

  function start() {
    stop();
    status('Connected');
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
  }

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
  $('close-room').addEventListener('click', () => {
    selected = null;
    $('room').hidden = true;
  });
  $('dispose').addEventListener('click', async () => {
    const id = selected;
    if (!id) return;
    try {
      await api(`rooms/${encodeURIComponent(id)}/dispose`, 'POST');
      status(`Disposed room ${id}.`);
      selected = null;
      $('room').hidden = true;
      refresh();
    } catch (e) {
      status(`Dispose failed: ${e.message}`, true);
    }
  });

  if (token()) start();
})();
