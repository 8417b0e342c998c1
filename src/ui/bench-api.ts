/**
 * The page's bench endpoints: `POST /api/bench` starts a run (202; 409 while one runs),
 * `GET /api/bench` is the running or last run with its intervals so far (the page polls it),
 * `DELETE /api/bench` stops the running one early. Checked like the send endpoints: a capped
 * JSON body, bounded numbers, unicast destinations only.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Hono } from 'hono';
import { gateBenchForm, toBenchForm } from './bench-form.js';
import type { BenchRuns } from './bench-run.js';
import { readJsonObject } from './json-body.js';

/**
 * Adds the bench endpoints to `app`, running tests with `runs`.
 * @example addBenchApi(app, new BenchRuns())
 */
export function addBenchApi(app: Hono<{ Bindings: HttpBindings }>, runs: BenchRuns): void {
  app.get('/api/bench', (c) => c.json(runs.status()));
  app.post('/api/bench', async (c) => {
    const body = await readJsonObject(c);
    if (body instanceof Response) return body;
    const form = toBenchForm(body);
    if (typeof form === 'string') return c.json({ error: form }, 400);
    const gated = await gateBenchForm(form);
    if (typeof gated === 'string') return c.json({ error: gated }, 400);
    const run = runs.start(gated);
    if (run === false) return c.json({ error: 'a bench run is already running; wait for it to end or stop it' }, 409);
    return c.json(run, 202);
  });
  app.delete('/api/bench', (c) => (runs.stop() ? c.json({ ok: true }) : c.json({ error: 'no bench run is running' }, 404)));
}
