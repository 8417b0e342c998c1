/**
 * The `udpkit ui` web server: the page's static files and a small JSON API over the library
 * (listen, send, networkInfo), with live datagrams over Server-Sent Events.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { networkInfoJson } from '../format/network-info.js';
import { networkInfo } from '../net/network-info.js';
import { Hub } from './hub.js';
import { SavedStore, savedPath, toSaved } from './saved.js';
import { guard, newToken } from './security.js';
import { sendForm, toSendForm } from './send-form.js';
import { validatePort } from '../validate.js';

/** Options of {@link startUiServer}. */
export interface UiServerOptions {
  /** TCP port, 0 for any free one; default 8080. */
  readonly port?: number;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Where `XDG_CONFIG_HOME` is read from (saved messages); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
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
const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
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
  const hub = new Hub();
  const saved = new SavedStore(savedPath(options.env ?? process.env));
  let boundPort = 0;
  const app = new Hono();

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

  app.get('/api/info', async (c) => c.json(networkInfoJson(await networkInfo(), { all: true })));

  app.get('/api/listeners', (c) => c.json(hub.list()));
  app.post('/api/listeners', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
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

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue = [...hub.recent()];
      let wake: (() => void) | undefined;
      const unsubscribe = hub.subscribe((e) => {
        queue.push(e);
        wake?.();
      });
      let open = true;
      stream.onAbort(() => {
        open = false;
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: 'ready', data: '{}' });
      while (open) {
        for (let e = queue.shift(); e !== undefined; e = queue.shift()) {
          await stream.writeSSE({ event: 'datagram', id: String(e.id), data: JSON.stringify(e) });
        }
        // Wait for the next datagram, with a comment now and then so proxies keep the stream.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000).unref();
        });
        wake = undefined;
        if (open && queue.length === 0) await stream.write(': keep-alive\n\n');
      }
    }),
  );

  app.post('/api/send', async (c) => {
    const form = toSendForm(await c.req.json().catch(() => undefined));
    if (typeof form === 'string') return c.json({ error: form }, 400);
    return c.json({ results: await sendForm(form) });
  });

  app.get('/api/saved', async (c) => c.json(await saved.list()));
  app.post('/api/saved', async (c) => {
    const m = toSaved(await c.req.json().catch(() => undefined));
    if (typeof m === 'string') return c.json({ error: m }, 400);
    return c.json(await saved.put(m), 201);
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
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE streams never end by themselves.
        server.closeAllConnections();
      });
    },
  };
}
