import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, start, startListener, waitForStderr } from '../helpers/cli.js';
import { startUi, type RunningUi } from '../helpers/ui.js';

/** fetch() will not let us forge Host, so this one request goes through node:http. */
function getWithHost(base: string, path: string, host: string, token: string): Promise<number> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host, authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('udpkit ui server', () => {
  let ui: RunningUi;
  beforeAll(async () => {
    ui = await startUi();
  });
  afterAll(async () => {
    await ui?.stop();
  });

  it('prints the page address with a token, and serves the page with it', async () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{16,}$/);
    const res = await fetch(ui.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>udpkit</title>');
  });

  it('refuses requests without the token or with a wrong one (401)', async () => {
    expect((await fetch(`${ui.base}/api/info`)).status).toBe(401);
    expect((await fetch(`${ui.base}/`)).status).toBe(401);
    expect((await ui.api('/api/info', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${ui.base}/api/events?token=wrong`)).status).toBe(401);
    const body = (await (await fetch(`${ui.base}/api/listeners`)).json()) as { error: string };
    expect(body.error).toMatch(/token/);
  });

  it('refuses a foreign Host header (DNS rebinding) and accepts localhost', async () => {
    const port = new URL(ui.base).port;
    expect(await getWithHost(ui.base, '/api/listeners', `evil.example:${port}`, ui.token)).toBe(403);
    expect(await getWithHost(ui.base, '/api/listeners', `127.0.0.1:${Number(port) + 1}`, ui.token)).toBe(403);
    expect(await getWithHost(ui.base, '/api/listeners', `localhost:${port}`, ui.token)).toBe(200);
  });

  it('refuses a cross-site POST even with the token, accepts a same-origin one', async () => {
    const evil = await ui.api('/api/listeners', { method: 'POST', json: { port: 0 }, headers: { origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    const same = await ui.api('/api/listeners', { method: 'POST', json: { port: 0 }, headers: { origin: ui.base } });
    expect(same.status).toBe(201);
    const { id } = (await same.json()) as { id: number };
    expect((await ui.api(`/api/listeners/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it('answers /api/info with this machine\'s interfaces', async () => {
    const info = (await (await ui.api('/api/info')).json()) as { interfaces: { name: string }[] };
    expect(info.interfaces.some((i) => i.name === 'lo')).toBe(true);
  });

  it('starts, lists and stops listeners; a CLI send shows up on the event stream', async () => {
    const res = await ui.api('/api/listeners', { method: 'POST', json: { port: 0, address: '127.0.0.1' } });
    expect(res.status).toBe(201);
    const l = (await res.json()) as { id: number; port: number; address: string };
    expect(l.address).toBe('127.0.0.1');
    expect(((await (await ui.api('/api/listeners')).json()) as { id: number }[]).map((x) => x.id)).toContain(l.id);

    const events = await ui.api('/api/events');
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    const sent = await runCli(['send', `127.0.0.1:${l.port}`, 'hello\x01ui']);
    expect(sent.code).toBe(0);
    while (!seen.includes('event: datagram')) seen += (await reader.read()).value ?? '';
    await reader.cancel();
    const data = JSON.parse(/data: (\{.*"listenerId".*\})/.exec(seen)![1]!) as Record<string, unknown>;
    expect(data).toMatchObject({ listenerId: l.id, port: l.port, size: 8, hex: Buffer.from('hello\x01ui').toString('hex'), from: { address: '127.0.0.1' } });
    expect(data['text']).not.toContain('\x01');

    expect((await ui.api(`/api/listeners/${l.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await ui.api(`/api/listeners/${l.id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('sends text and hex to a CLI listener, and reports a bad payload', async () => {
    const listener = await startListener(['-n', '3', '--json']);
    const text = await ui.api('/api/send', { method: 'POST', json: { host: '127.0.0.1', port: listener.port, payload: 'from-ui', mode: 'text', count: 2 } });
    expect(await text.json()).toEqual({ results: [{ ok: true, bytes: 7 }, { ok: true, bytes: 7 }] });
    const hex = await ui.api('/api/send', { method: 'POST', json: { host: '127.0.0.1', port: listener.port, payload: '68 65 78', mode: 'hex' } });
    expect(((await hex.json()) as { results: unknown[] }).results).toEqual([{ ok: true, bytes: 3 }]);
    const r = await listener.done;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text)).toEqual(['from-ui', 'from-ui', 'hex']);
    const bad = await ui.api('/api/send', { method: 'POST', json: { host: '127.0.0.1', port: 9, payload: 'zz', mode: 'hex' } });
    expect(bad.status).toBe(400);
  });

  it('confirms an --ack send to a CLI listener', async () => {
    const listener = await startListener(['-n', '1', '--linger', '0']);
    const res = await ui.api('/api/send', { method: 'POST', json: { host: '127.0.0.1', port: listener.port, payload: 'sure', mode: 'text', ack: true } });
    expect(await res.json()).toEqual({ results: [{ ok: true, bytes: 4, confirmed: true }] });
    expect((await listener.done).stdout).toContain('sure');
  });

  it('saves, lists and deletes messages in $XDG_CONFIG_HOME/udpkit/saved.json', async () => {
    const m = { name: 'ping', host: '127.0.0.1', port: 5000, payload: 'ping', mode: 'text' };
    expect((await ui.api('/api/saved', { method: 'POST', json: m })).status).toBe(201);
    expect(await (await ui.api('/api/saved')).json()).toEqual([m]);
    expect(JSON.parse(readFileSync(join(ui.configHome, 'udpkit', 'saved.json'), 'utf8'))).toEqual([m]);
    expect((await ui.api('/api/saved', { method: 'POST', json: { ...m, port: 0 } })).status).toBe(400);
    expect((await ui.api('/api/saved/ping', { method: 'DELETE' })).status).toBe(200);
    expect(await (await ui.api('/api/saved')).json()).toEqual([]);
  });
});

describe('udpkit ui --host', () => {
  it('warns when the page is reachable from other machines', async () => {
    const r = start(['ui', '--port', '0', '--host', '0.0.0.0']);
    await waitForStderr(r, /listening on http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stderr).toMatch(/warning: .*reachable from other machines/);
    r.child.kill('SIGTERM');
    expect((await r.done).code).toBe(0);
  });

  it('exits 2 on a bad --port', async () => {
    const r = await runCli(['ui', '--port', 'x']);
    expect(r.code).toBe(2);
  });
});
