// udpkit ui: talks to the local server with the token from the address bar.
'use strict';
(() => {
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);
  const MAX_ROWS = 10000;
  const rows = []; // newest last
  let paused = false;

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
    $('listeners').replaceChildren(...list.map((l) => {
      const stop = el('button', { type: 'button', textContent: `Stop port ${l.port}` });
      stop.addEventListener('click', async () => { await api('DELETE', `/api/listeners/${l.id}`); refreshListeners(); });
      return el('li', { className: 'listener', dataset: { port: String(l.port) } }, `Listening on ${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port} `, stop);
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

  // Live log
  function source(d) { return d.from.family === 'IPv6' || d.from.address.includes(':') ? `[${d.from.address}]:${d.from.port}` : `${d.from.address}:${d.from.port}`; }
  function matches(d) {
    const f = $('log-filter').value.trim().toLowerCase();
    return !f || d.text.toLowerCase().includes(f) || source(d).toLowerCase().includes(f);
  }
  function rowFor(d) {
    const payload = el('td', { className: 'payload', textContent: d.text });
    const toggle = el('button', { type: 'button', textContent: 'hex', title: 'show as hex' });
    toggle.setAttribute('aria-label', `show datagram ${d.id} as hex`);
    toggle.addEventListener('click', () => {
      const hex = toggle.textContent === 'hex';
      payload.textContent = hex ? d.hex.replace(/(..)/g, '$1 ').trim() : d.text;
      toggle.textContent = hex ? 'text' : 'hex';
      toggle.setAttribute('aria-label', `show datagram ${d.id} as ${hex ? 'text' : 'hex'}`);
    });
    return el('tr', { dataset: { id: String(d.id) } },
      el('td', { textContent: d.time.slice(11, 23) }), el('td', { textContent: String(d.port) }),
      el('td', { className: 'from', textContent: source(d) }), el('td', { textContent: `${d.size} B` }),
      payload, el('td', {}, toggle));
  }
  function shown() { return rows.filter(matches); }
  function render() {
    const list = shown();
    $('log').tBodies[0].replaceChildren(...list.slice(-500).reverse().map(rowFor));
    $('log-count').textContent = `${list.length} of ${rows.length} shown${paused ? ' (paused)' : ''}`;
  }
  function addRow(d) {
    rows.push(d);
    if (rows.length > MAX_ROWS) rows.splice(0, rows.length - MAX_ROWS);
    if (paused) { $('log-count').textContent = `${shown().length} of ${rows.length} shown (paused)`; return; }
    if (matches(d)) {
      const body = $('log').tBodies[0];
      body.prepend(rowFor(d));
      while (body.rows.length > 500) body.deleteRow(-1);
    }
    $('log-count').textContent = `${shown().length} of ${rows.length} shown`;
  }
  $('log-filter').addEventListener('input', render);
  $('log-pause').addEventListener('click', () => {
    paused = !paused;
    $('log-pause').setAttribute('aria-pressed', String(paused));
    $('log-pause').textContent = paused ? 'Resume' : 'Pause';
    render();
  });
  $('log-clear').addEventListener('click', () => { rows.length = 0; render(); });
  $('log-export').addEventListener('click', () => {
    const text = shown().map((d) => JSON.stringify(d)).join('\n') + '\n';
    const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' })), download: 'udpkit-log.jsonl' });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });

  const events = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
  events.addEventListener('ready', () => { $('status').textContent = 'connected'; });
  events.addEventListener('datagram', (ev) => addRow(JSON.parse(ev.data)));
  events.addEventListener('error', () => { $('status').textContent = 'disconnected, retrying…'; });

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

  Promise.all([refreshListeners(), refreshSaved(), refreshInfo()]).catch((err) => { $('status').textContent = `error: ${err.message}`; });
})();
