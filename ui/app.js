// udpkit ui: talks to the local server with the token from the address bar.
'use strict';
(() => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);
  const MAX_ROWS = 10000;
  const rows = []; // newest last, at most MAX_ROWS (plus one batch)
  let paused = false;
  const pageCharts = window.udpkitPageCharts;
  const rates = pageCharts.rateCharts();

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
    return data;
  }

  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    const { dataset, ...rest } = props;
    Object.assign(e, rest);
    Object.assign(e.dataset, dataset);
    for (const c of children) e.append(c);
    return e;
  }

  // Listeners
  async function refreshListeners() {
    const list = await api('GET', '/api/listeners');
    rates.keep(new Set(list.map((l) => l.id)));
    $('listeners').replaceChildren(...list.map((l) => {
      const stop = el('button', { type: 'button', textContent: `Stop port ${l.port}` });
      stop.addEventListener('click', async () => { await api('DELETE', `/api/listeners/${l.id}`); refreshListeners(); });
      return el('li', { className: 'listener', dataset: { port: String(l.port) } }, `Listening on ${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port} `, stop, rates.figure(l));
    }));
  }
  $('listen-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('listen-error').textContent = '';
    try {
      const address = $('listen-address').value.trim();
      await api('POST', '/api/listeners', { port: Number($('listen-port').value), ...(address ? { address } : {}) });
      await refreshListeners();
    } catch (err) { $('listen-error').textContent = `Could not listen: ${err.message}`; }
  });

  // Live log: the server keeps the log (bounded) and streams it; the page keeps its own copy,
  // bounded too, and draws at most one batch of rows per frame however fast datagrams come.
  const SHOWN_ROWS = 500;
  let filter = '';
  let matching = 0; // rows that match the filter
  let drawnId = 0; // newest id drawn in the table
  let clearedThrough = 0; // the newest id when Clear was pressed: export starts after it
  let evicted = 0; // datagrams the server's log let go (its byte or entry bound)
  let missed = 0; // of those, datagrams this page never received
  let frame = 0;
  function source(d) { return d.from.family === 'IPv6' || d.from.address.includes(':') ? `[${d.from.address}]:${d.from.port}` : `${d.from.address}:${d.from.port}`; }
  function matches(d) { return !filter || d.text.toLowerCase().includes(filter) || source(d).toLowerCase().includes(filter); }
  function exportUrl(after, through, withFilter, format) {
    const q = new URLSearchParams({ token, after: String(after) });
    if (format) q.set('format', format);
    if (through !== undefined) q.set('through', String(through));
    if (withFilter && filter) q.set('filter', filter);
    return `/api/log/export?${q}`;
  }
  function rowFor(d) {
    const shownText = () => d.text + (d.truncated ? ` … (${d.size - d.hex.length / 2} more bytes)` : '');
    const payload = el('td', { className: 'payload', textContent: shownText() });
    const toggle = el('button', { type: 'button', textContent: 'hex', title: 'show as hex' });
    toggle.setAttribute('aria-label', `show datagram ${d.id} as hex`);
    toggle.addEventListener('click', () => {
      const hex = toggle.textContent === 'hex';
      payload.textContent = hex ? d.hex.replace(/(..)/g, '$1 ').trim() + (d.truncated ? ' …' : '') : shownText();
      toggle.textContent = hex ? 'text' : 'hex';
      toggle.setAttribute('aria-label', `show datagram ${d.id} as ${hex ? 'text' : 'hex'}`);
    });
    const show = el('td', {}, toggle);
    if (d.truncated) show.append(' ', el('a', { href: exportUrl(d.id - 1, d.id, false), download: `udpkit-datagram-${d.id}.jsonl`, textContent: 'all bytes' }));
    return el('tr', { dataset: { id: String(d.id) } },
      el('td', { textContent: d.time.slice(11, 23) }), el('td', { textContent: String(d.port) }),
      el('td', { className: 'from', textContent: source(d) }), el('td', { textContent: `${d.size} B` }),
      payload, show);
  }
  function showCount() {
    const notes = [];
    if (paused) notes.push('paused');
    if (evicted) notes.push(`the server let go of ${evicted} older datagram${evicted === 1 ? '' : 's'} to stay within its memory limit${missed ? `, ${missed} before this page got them` : ''}`);
    $('log-count').textContent = `${matching} of ${rows.length} shown${notes.length ? ` (${notes.join('; ')})` : ''}`;
  }
  function draw() {
    frame = 0;
    if (rows.length > MAX_ROWS) drop(rows.length - MAX_ROWS);
    if (!paused) {
      const body = $('log').tBodies[0];
      const fresh = [];
      for (let i = rows.length - 1; i >= 0 && rows[i].id > drawnId && fresh.length < SHOWN_ROWS; i--) if (matches(rows[i])) fresh.push(rows[i]);
      if (rows.length) drawnId = rows[rows.length - 1].id;
      body.prepend(...fresh.map(rowFor));
      while (body.rows.length > SHOWN_ROWS) body.deleteRow(-1);
    }
    showCount();
  }
  function redraw() {
    filter = $('log-filter').value.trim().toLowerCase();
    matching = rows.reduce((n, d) => n + (matches(d) ? 1 : 0), 0);
    drawnId = 0;
    $('log').tBodies[0].replaceChildren();
    draw();
  }
  function drop(n) {
    for (const d of rows.splice(0, n)) if (matches(d)) matching--;
  }
  function addRow(d) {
    rows.push(d);
    if (matches(d)) matching++;
    // A hidden tab gets no animation frames: keep the copy bounded here too.
    if (rows.length > MAX_ROWS + 1000) drop(rows.length - MAX_ROWS);
    frame ||= requestAnimationFrame(draw);
  }
  $('log-filter').addEventListener('input', redraw);
  $('log-pause').addEventListener('click', () => {
    paused = !paused;
    $('log-pause').setAttribute('aria-pressed', String(paused));
    $('log-pause').textContent = paused ? 'Resume' : 'Pause';
    redraw();
  });
  $('log-clear').addEventListener('click', () => {
    if (rows.length) clearedThrough = rows[rows.length - 1].id;
    rows.length = 0;
    redraw();
  });
  // The export comes from the server's log, with whole payloads (the page holds only the first KiB).
  $('log-export').addEventListener('click', () => {
    const a = el('a', { href: exportUrl(clearedThrough, undefined, true), download: 'udpkit-log.jsonl' });
    document.body.append(a); a.click(); a.remove();
  });
  // The same datagrams as a capture for Wireshark or tcpdump (synthesized IP and UDP headers).
  $('log-export-pcapng').addEventListener('click', () => {
    const a = el('a', { href: exportUrl(clearedThrough, undefined, true, 'pcapng'), download: 'udpkit-log.pcapng' });
    document.body.append(a); a.click(); a.remove();
  });

  // EventSource reconnects by itself, sending the last id it got; the server resumes from there.
  const events = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  events.addEventListener('ready', (ev) => {
    $('status').textContent = 'connected';
    evicted = Math.max(evicted, JSON.parse(ev.data).evicted);
    showCount();
  });
  events.addEventListener('datagram', (ev) => {
    const d = JSON.parse(ev.data);
    evicted = Math.max(evicted, d.evicted);
    rates.count(d);
    addRow(d);
  });
  events.addEventListener('missed', (ev) => {
    missed += JSON.parse(ev.data).count;
    showCount();
  });
  events.addEventListener('error', async () => {
    if (events.readyState !== EventSource.CLOSED) { $('status').textContent = 'disconnected, retrying…'; return; }
    // Refused for good (EventSource does not retry an error status): say why if the server can.
    const why = await api('GET', '/api/log').then((l) => (l.streams.open >= l.streams.max ? `${l.streams.max} pages are already open; close one and reload` : 'reload to retry'), () => 'reload to retry');
    $('status').textContent = `live log unavailable: ${why}`;
  });

  // Send
  function formValues() {
    return {
      host: $('send-host').value.trim(),
      port: Number($('send-port').value),
      payload: $('send-payload').value,
      mode: $('mode-hex').checked ? 'hex' : 'text',
    };
  }
  async function doSend(form) {
    const label = `${form.mode === 'hex' ? 'hex ' : ''}${JSON.stringify(form.payload).slice(0, 60)} to ${form.host}:${form.port}`;
    let line;
    try {
      const { results } = await api('POST', '/api/send', form);
      const ok = results.filter((r) => r.ok).length;
      const errors = [...new Set(results.filter((r) => !r.ok).map((r) => r.error))];
      const acked = form.ack ? (ok === results.length ? ', confirmed' : ', NOT all confirmed') : '';
      line = el('li', { className: ok === results.length ? 'ok' : 'fail', textContent: `sent ${ok} of ${results.length} ${label}${acked}${errors.length ? `: ${errors.join('; ')}` : ''}` });
    } catch (err) {
      line = el('li', { className: 'fail', textContent: `${label}: ${err.message}` });
    }
    $('send-results').prepend(line);
    while ($('send-results').children.length > 50) $('send-results').lastChild.remove();
  }
  $('send-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    doSend({ ...formValues(), count: Number($('send-count').value) || 1, intervalMs: Number($('send-interval').value) || 0,
      broadcast: $('send-broadcast').checked, ack: $('send-ack').checked });
  });

  // Saved messages
  async function refreshSaved() {
    const list = await api('GET', '/api/saved');
    $('saved').replaceChildren(...list.map((m) => {
      const resend = el('button', { type: 'button', textContent: `Send "${m.name}"` });
      resend.addEventListener('click', () => doSend({ host: m.host, port: m.port, payload: m.payload, mode: m.mode }));
      const load = el('button', { type: 'button', textContent: 'Edit' });
      load.setAttribute('aria-label', `load "${m.name}" into the form`);
      load.addEventListener('click', () => {
        $('send-host').value = m.host; $('send-port').value = m.port; $('send-payload').value = m.payload;
        $(m.mode === 'hex' ? 'mode-hex' : 'mode-text').checked = true; $('save-name').value = m.name;
      });
      const del = el('button', { type: 'button', textContent: 'Delete' });
      del.setAttribute('aria-label', `delete "${m.name}"`);
      del.addEventListener('click', async () => { await api('DELETE', `/api/saved/${encodeURIComponent(m.name)}`); refreshSaved(); });
      return el('li', { className: 'saved' }, `${m.name}: ${m.mode === 'hex' ? 'hex ' : ''}${JSON.stringify(m.payload).slice(0, 40)} to ${m.host}:${m.port} `, resend, ' ', load, ' ', del);
    }));
  }
  $('save-button').addEventListener('click', async () => {
    const name = $('save-name').value.trim();
    if (!name) { $('save-name').focus(); return; }
    try { await api('POST', '/api/saved', { name, ...formValues() }); await refreshSaved(); }
    catch (err) { $('send-results').prepend(el('li', { className: 'fail', textContent: `could not save: ${err.message}` })); }
  });

  // This machine
  async function refreshInfo() {
    const info = await api('GET', '/api/info');
    const p = info.primary;
    const pairs = [['Host name', info.hostname], ['Primary IP', p ? p.ipv4 : 'none'], ['MAC', (p && p.mac) || 'none']];
    if (info.hostnameNote) pairs.push(['Note', info.hostnameNote]);
    $('info-summary').replaceChildren(...pairs.flatMap(([k, v]) => [el('dt', { textContent: k }), el('dd', { textContent: v })]));
    $('interfaces').replaceChildren(...info.interfaces.map((i) => el('li', {},
      `${i.name} (${i.state}${i.loopback ? ', loopback' : ''}${i.mac ? `, MAC ${i.mac}` : ''}): `,
      [...i.ipv4.map((a) => `${a.address}/${a.prefixLength}${a.broadcast ? ` broadcast ${a.broadcast}` : ''}`),
        ...i.ipv6.map((a) => `${a.address}/${a.prefixLength}`)].join(', ') || 'no addresses')));
  }
  $('info-refresh').addEventListener('click', refreshInfo);

  pageCharts.benchPanel(api, $);

  Promise.all([refreshListeners(), refreshSaved(), refreshInfo()]).catch((err) => { $('status').textContent = `error: ${err.message}`; });
})();
