// udpkit ui: the page's charts, drawn with window.udpkitCharts (ui-charts.js, the renderers of
// `udpkit bench --plot`): a rate chart per listener and the bench form's live chart. app.js
// wires them to its event stream and API helper.
'use strict';
window.udpkitPageCharts = (() => {
  const charts = window.udpkitCharts;
  const SECONDS = 60;

  // Our own renderer's output, parsed as XML (never as HTML) and moved in as nodes.
  function showSvg(container, svgText) {
    if (!charts) { container.textContent = 'charts unavailable (ui-charts.js did not load: run npm run build)'; return; }
    const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
    const broken = doc.querySelector('parsererror');
    if (broken) { container.textContent = `chart could not be drawn: ${broken.textContent}`; return; }
    container.replaceChildren(document.importNode(doc.documentElement, true));
  }

  // Datagrams per second for each listener, from the datagram events, over the last minute.
  // Seconds are the server's (each event's receive time), so a page that reconnects and is sent
  // the log again counts those datagrams where they belong, not all in the current second.
  function rateCharts() {
    const listeners = new Map(); // listener id -> { counts: Map(second -> n), figure, port }
    let offset = Infinity; // page clock minus server clock: the smallest delay seen
    const serverSecond = () => Math.floor((Date.now() - (Number.isFinite(offset) ? offset : 0)) / 1000);
    function entry(id, port) {
      let e = listeners.get(id);
      if (!e) {
        const figure = document.createElement('figure');
        figure.className = 'rate-chart';
        // Redrawn every second inside the listeners' live region: kept out of what screen readers announce.
        figure.setAttribute('aria-hidden', 'true');
        figure.dataset.listenerId = String(id);
        figure.dataset.port = String(port);
        e = { counts: new Map(), figure, port };
        listeners.set(id, e);
        draw(e);
      }
      return e;
    }
    function draw(e) {
      const now = serverSecond();
      for (const s of e.counts.keys()) if (s < now - SECONDS) e.counts.delete(s);
      // Whole seconds only: the one still running would show a rate that is only partly counted.
      const perSecond = [];
      for (let s = now - SECONDS; s < now; s++) perSecond.push(e.counts.get(s) || 0);
      e.figure.dataset.peak = String(Math.max(0, ...perSecond));
      e.figure.dataset.total = String(perSecond.reduce((a, b) => a + b, 0));
      showSvg(e.figure, charts ? charts.rateChartSvg({ title: `port ${e.port}: datagrams/s`, perSecond }) : '');
    }
    setInterval(() => { for (const e of listeners.values()) draw(e); }, 1000);
    return {
      /** A datagram event from the live log. */
      count(d) {
        const t = Date.parse(d.time);
        if (!Number.isFinite(t)) return;
        offset = Math.min(offset, Date.now() - t);
        const e = entry(d.listenerId, d.port);
        const s = Math.floor(t / 1000);
        e.counts.set(s, (e.counts.get(s) || 0) + 1);
      },
      /** The chart of a listener the API lists. */
      figure(l) { return entry(l.id, l.port).figure; },
      /** Forgets listeners no longer running. */
      keep(ids) { for (const id of listeners.keys()) if (!ids.has(id)) listeners.delete(id); },
    };
  }

  // The Bench form: starts a run on the server and polls it while it runs.
  function benchPanel(api, $) {
    let timer = 0;
    const fmt = (n, digits) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
    function show(s) {
      const section = $('bench-section');
      section.dataset.state = s.state;
      if (s.state === 'idle') return;
      section.dataset.run = String(s.id);
      section.dataset.intervals = String(s.intervals.length);
      const last = s.intervals[s.intervals.length - 1];
      const live = last ? `, last interval ${fmt(last.mbps, 2)} Mbit/s, loss ${fmt(last.lossPercent, 3)}%` : '';
      $('bench-status').textContent =
        s.state === 'running' ? `running against ${s.target}${live}` :
        s.state === 'done' ? `finished against ${s.target}${live}` : `failed against ${s.target}: ${s.error}`;
      $('bench-stop').disabled = s.state !== 'running';
      if (charts) {
        const intervals = s.intervals.map((i) => ({ startS: i.startS, endS: i.endS, mbps: i.mbps, lossPercent: i.lossPercent }));
        showSvg($('bench-chart'), charts.benchChartSvg({ title: `bench ${s.target}: ${s.length}-byte datagrams at ${s.rate}/s`, intervals, histogram: [] }));
      }
      $('bench-report').textContent = s.text || '';
    }
    async function poll() {
      clearTimeout(timer);
      try {
        const s = await api('GET', '/api/bench');
        show(s);
        if (s.state === 'running') timer = setTimeout(poll, 500);
      } catch (err) { $('bench-error').textContent = `Could not read the bench run: ${err.message}`; }
    }
    $('bench-loopback').addEventListener('change', () => {
      for (const id of ['bench-host', 'bench-port']) $(id).disabled = $('bench-loopback').checked;
    });
    $('bench-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      $('bench-error').textContent = '';
      const loopback = $('bench-loopback').checked;
      try {
        show(await api('POST', '/api/bench', {
          loopback,
          ...(loopback ? {} : { host: $('bench-host').value.trim(), port: Number($('bench-port').value) }),
          seconds: Number($('bench-seconds').value), rate: Number($('bench-rate').value),
          length: Number($('bench-length').value), rtt: $('bench-rtt').checked,
        }));
        poll();
      } catch (err) { $('bench-error').textContent = `Could not start the bench run: ${err.message}`; }
    });
    $('bench-stop').addEventListener('click', async () => {
      try { await api('DELETE', '/api/bench'); } catch (err) { $('bench-error').textContent = err.message; }
      poll();
    });
    poll();
  }

  return { rateCharts, benchPanel };
})();
