/**
 * The `udpkit ui` web server: the page's static files and a small JSON API over the library
 * (listen, send, networkInfo), with live datagrams over Server-Sent Events.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { networkInfoJson } from '../format/network-info.js';
import { networkInfo } from '../net/network-info.js';
import { validatePort } from '../validate.js';
import { addBenchApi } from './bench-api.js';
import { BenchRuns } from './bench-run.js';
import { gateBroadcast } from './broadcast-gate.js';
import type { EventLogOptions } from './event-log.js';
import { EventStreams, type EventStreamsOptions } from './event-streams.js';
import { Hub } from './hub.js';
import { readJsonObject } from './json-body.js';
import { LogExports } from './log-export.js';
import { MAX_SAVED, SavedStore, savedPath, toSaved } from './saved.js';
import { guard, newToken } from './security.js';
import { sendForm, toSendForm } from './send-form.js';

/** Options of {@link startUiServer}. */
export interface UiServerOptions {
  /** TCP port, 0 for any free one; default 8080. */
  readonly port?: number;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Where `XDG_CONFIG_HOME` is read from (saved messages); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Bounds of the log (entries, bytes); defaults in event-log.ts. */
  readonly log?: EventLogOptions;
  /** Bounds of the event streams (how many, how far behind); defaults in event-streams.ts. */
  readonly streams?: EventStreamsOptions;
}

/** A running UI server. */
export interface UiServer {
  readonly port: number;
  readonly host: string;
  readonly token: string;
  /** The page's address, token included. */
  readonly url: string;
  close(): Promise<void>;
}

// dist/ui/server.js and the bundle dist/app/udpkit.cjs both sit two levels below the package root.
const ASSETS = new URL('../../ui/', import.meta.url);
// The chart code (src/format/svg-chart.ts and bench-chart.ts) bundled for the browser by
// scripts/bundle.mjs, next to the CLI bundles; missing when run from uncompiled sources.
const CHARTS = new URL('../app/ui-charts.js', import.meta.url);
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Starts the UI server and resolves once it listens.
 * @example
 * const ui = await startUiServer({ port: 0 });
 * console.log(ui.url); // http://127.0.0.1:41234/?token=...
 */
export async function startUiServer(options: UiServerOptions = {}): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const token = newToken();
  const hub = new Hub(options.log);
  const streams = new EventStreams(hub.log, options.streams);
  hub.subscribe((e) => streams.notify(e.event.length));
  const exports = new LogExports(hub.log);
  const saved = new SavedStore(savedPath(options.env ?? process.env));
  const benches = new BenchRuns();
  // Aborted by close(): sends in progress stop instead of keeping the process alive.
  const stopping = new AbortController();
  let boundPort = 0;
  const app = new Hono<{ Bindings: HttpBindings }>();

  app.use('*', guard({ token, host, port: () => boundPort }));
  app.onError((err, c) => c.json({ error: errorMessage(err) }, 500));

  for (const [name, type] of Object.entries(TYPES)) {
    const path = name === 'index.html' ? '/' : `/${name}`;
    app.get(path, async (c) => {
      // Stylesheet and script loads carry no Authorization header: the page names them with the token.
      const body = (await readFile(new URL(name, ASSETS), 'utf8')).replaceAll('%TOKEN%', token);
      return c.body(body, 200, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    });
  }

  app.get('/ui-charts.js', async (c) => {
    const body = await readFile(CHARTS, 'utf8').catch(() => undefined);
    if (body === undefined) return c.json({ error: 'charts not built: run npm run build' }, 404);
    return c.body(body, 200, { 'content-type': TYPES['app.js'] as string, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  });

  app.get('/api/info', async (c) => c.json(networkInfoJson(await networkInfo(), { all: true })));

  app.get('/api/listeners', async (c) => c.json(await hub.report()));
  app.post('/api/listeners', async (c) => {
    const body = await readJsonObject(c);
    if (body instanceof Response) return body;
    let port: number;
    try {
      port = validatePort(body['port'] ?? 0, { allowZero: true });
    } catch (err) {
      return c.json({ error: errorMessage(err) }, 400);
    }
    const address = typeof body['address'] === 'string' && body['address'] !== '' ? body['address'] : undefined;
    try {
      return c.json(await hub.start(port, address), 201);
    } catch (err) {
      return c.json({ error: errorMessage(err) }, 409);
    }
  });
  app.delete('/api/listeners/:id', async (c) =>
    (await hub.stop(Number(c.req.param('id')))) ? c.json({ ok: true }) : c.json({ error: 'no such listener' }, 404),
  );

  app.get('/api/events', (c) => {
    if (!streams.hasRoom()) {
      const { max } = streams.stats();
      return c.json({ error: `too many event streams open (${max}); close another page and reload` }, 503, { 'retry-after': '5', connection: 'close' });
    }
    streams.open(c.env.incoming, c.env.outgoing);
    return RESPONSE_ALREADY_SENT;
  });
  app.get('/api/log', (c) => c.json({ ...hub.log.stats(), streams: streams.stats(), exports: { open: exports.open, max: exports.max } }));
  app.get('/api/log/export', (c) => {
    if (!exports.hasRoom()) return c.json({ error: `too many exports running (${exports.max}); wait for one to finish` }, 503, { 'retry-after': '5' });
    const id = (name: string): number | undefined => {
      const v = c.req.query(name);
      return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
    };
    const after = id('after');
    const through = id('through');
    const filter = c.req.query('filter');
    const format = c.req.query('format') ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'pcapng') return c.json({ error: `format must be jsonl or pcapng, not ${JSON.stringify(format)}` }, 400);
    exports.start(c.env.outgoing, { format, ...(after !== undefined ? { after } : {}), ...(through !== undefined ? { through } : {}), ...(filter !== undefined ? { filter } : {}) });
    return RESPONSE_ALREADY_SENT;
  });

  app.post('/api/send', async (c) => {
    const body = await readJsonObject(c);
    if (body instanceof Response) return body;
    const form = toSendForm(body);
    if (typeof form === 'string') return c.json({ error: form }, 400);
    const gated = await gateBroadcast(form);
    if (typeof gated === 'string') return c.json({ error: gated }, 400);
    return c.json({ results: await sendForm(gated, stopping.signal) });
  });

  addBenchApi(app, benches);

  app.get('/api/saved', async (c) => c.json(await saved.list()));
  app.post('/api/saved', async (c) => {
    const body = await readJsonObject(c);
    if (body instanceof Response) return body;
    const m = toSaved(body);
    if (typeof m === 'string') return c.json({ error: m }, 400);
    const all = await saved.put(m);
    return all ? c.json(all, 201) : c.json({ error: `at most ${MAX_SAVED} saved messages: delete one first` }, 409);
  });
  app.delete('/api/saved/:name', async (c) =>
    (await saved.remove(c.req.param('name'))) ? c.json({ ok: true }) : c.json({ error: 'no such saved message' }, 404),
  );

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, () => resolve(s as Server)) as Server;
    s.once('error', reject);
  });
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port: boundPort,
    host,
    token,
    url: `http://${urlHost}:${boundPort}/?token=${token}`,
    async close() {
      // Streams and exports never end by themselves, and a stalled one never drains: end every
      // connection at once instead of waiting for any of them.
      stopping.abort();
      streams.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([closed, hub.close(), benches.close()]);
    },
  };
}
