/** The page's bench endpoints against the built `udpkit ui`: bounds, one run at a time, stop, failures. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedUdpPort } from '../helpers/closed-port.js';
import { startUi, type RunningUi } from '../helpers/ui.js';

interface Status {
  state: string;
  target?: string;
  intervals?: { startS: number; endS: number; sent: number; received: number }[];
  report?: { sent: number; received: number; lost: number; stopped: boolean; seconds: number };
  text?: string;
  error?: string;
}

describe('udpkit ui bench endpoints', () => {
  let ui: RunningUi;
  const status = async (): Promise<Status> => (await (await ui.api('/api/bench')).json()) as Status;
  /** Polls the run (nothing announces its end but the state) every 50 ms, for at most `ms`. */
  async function ended(ms: number): Promise<Status> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await status();
      if (s.state !== 'running') return s;
      if (Date.now() > deadline) throw new Error(`the bench run still runs after ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const post = (json: unknown, headers: Record<string, string> = {}): Promise<Response> => ui.api('/api/bench', { method: 'POST', json, headers });

  beforeAll(async () => {
    ui = await startUi();
  });
  afterAll(async () => {
    await ui?.stop();
  });

  it('is idle before the first run', async () => {
    expect(await status()).toEqual({ state: 'idle' });
  });

  it.each([
    [{}, 'host is required (or tick loopback)'],
    [{ host: '127.0.0.1', port: 0 }, /port/],
    [{ loopback: true, seconds: 31 }, 'seconds: more than 0, at most 30'],
    [{ loopback: true, seconds: 0 }, 'seconds: more than 0, at most 30'],
    [{ loopback: true, rate: 0 }, 'rate must be a whole number from 1 to 100000, got "0"'],
    [{ loopback: true, rate: 100_001 }, 'rate must be a whole number from 1 to 100000, got "100001"'],
    [{ loopback: true, length: 1473 }, 'length must be a whole number from 28 to 1472, got "1473"'],
    [{ loopback: true, length: 27 }, 'length must be a whole number from 28 to 1472, got "27"'],
  ])('refuses %j (400)', async (body, error) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toEqual(typeof error === 'string' ? error : expect.stringMatching(error));
    expect(await status()).toEqual({ state: 'idle' });
  });

  it('keeps the UI server security rules: token, same origin, body cap', async () => {
    expect((await fetch(`${ui.base}/api/bench`, { method: 'POST', body: '{"loopback":true}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await post({ loopback: true }, { origin: 'http://evil.example' })).status).toBe(403);
    const big = await ui.api('/api/bench', { method: 'POST', body: JSON.stringify({ loopback: true, pad: 'x'.repeat(300 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expect((await ui.api('/api/bench', { method: 'POST', body: '[1]', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect(await status()).toEqual({ state: 'idle' });
  });

  it('runs one test at a time, stops it on request, and reports what was sent and received', async () => {
    const first = await post({ loopback: true, seconds: 30, rate: 5000 });
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ state: 'running', target: 'loopback', seconds: 30, rate: 5000, length: 64 });
    const second = await post({ loopback: true, seconds: 1 });
    expect(second.status).toBe(409);
    expect(await second.json()).toEqual({ error: 'a bench run is already running; wait for it to end or stop it' });
    expect((await ui.api('/api/bench', { method: 'DELETE' })).status).toBe(200);
    const s = await ended(10_000);
    expect(s.state).toBe('done');
    expect(s.report?.stopped).toBe(true);
    expect(s.report!.seconds).toBeLessThan(30);
    expect(s.report!.received + s.report!.lost).toBe(s.report!.sent);
    expect(s.intervals!.reduce((n, i) => n + i.sent, 0)).toBe(s.report!.sent);
    expect(s.intervals!.reduce((n, i) => n + i.received, 0)).toBe(s.report!.received);
    expect(s.text).toMatch(/\(stopped early\)/);
    expect((await ui.api('/api/bench', { method: 'DELETE' })).status).toBe(404);
  });

  it('says why a run failed when no bench server answers', async () => {
    const closed = await closedUdpPort();
    try {
      expect((await post({ host: '127.0.0.1', port: closed.port, seconds: 1 })).status).toBe(202);
      const s = await ended(15_000);
      expect(s).toMatchObject({ state: 'failed', target: `127.0.0.1:${closed.port}` });
      expect(s.error).toBe(`no answer from bench server at 127.0.0.1:${closed.port}/udp (port unreachable: is a bench server running there?)`);
    } finally {
      await closed.close();
    }
  });
});
