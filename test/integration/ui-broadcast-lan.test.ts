/**
 * The page's Broadcast box, and the Bench form's refusal of broadcast and multicast targets, on a real LAN (two network namespaces on one bridge, 10.77.0.1..2/24):
 * `udpkit ui` runs in host 1 and is driven from inside host 1 by Python's urllib; the textbook's
 * Python receiver in host 2 shows what actually went out. Nothing is sent from, or created in,
 * this machine's own network namespace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, waitForLines, waitForStderr, type Running } from '../helpers/cli.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED ui broadcast LAN tests: ${support.reason}`);

const receiverPy = fileURLToPath(new URL('../fixtures/seed_receiver.py', import.meta.url));
// A POST from inside the namespace; no proxy, whatever the environment says.
const POST_PY = `
import sys, urllib.request, urllib.error
url, token, body = sys.argv[1:4]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
req = urllib.request.Request(url, data=body.encode(), method='POST', headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
try:
    with opener.open(req, timeout=10) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
`;

describe.skipIf(!support.ok)('udpkit ui Broadcast box on a 2-host LAN in network namespaces', () => {
  let lan: Lan;
  let h1: LanHost, h2: LanHost;
  let ui: Running;
  let base: string;
  let token: string;
  const configHome = mkdtempSync(join(tmpdir(), 'udpkit-ui-lan-'));

  beforeAll(async () => {
    lan = await createLan(2);
    [h1, h2] = lan.hosts as [LanHost, LanHost];
    ui = start(['ui', '--port', '0'], { prefix: h1.exec, env: { XDG_CONFIG_HOME: configHome }, timeoutMs: 60_000 });
    await waitForStderr(ui, /listening on http:\/\//);
    const u = new URL((await waitForLines(ui, 1))[0]!);
    base = `${u.protocol}//${u.host}`;
    token = u.searchParams.get('token')!;
  });
  afterAll(async () => {
    ui?.child.kill('SIGTERM');
    await ui?.done;
    await lan?.destroy();
    rmSync(configHome, { recursive: true, force: true });
  });

  /** POSTs `body` to the UI's `path` from inside host 1; resolves with the status and the JSON answer. */
  async function postFromPage(path: string, body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const py = lan.run(h1, 'python3', ['-c', POST_PY, `${base}${path}`, token, JSON.stringify(body)]);
    let out = '';
    py.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    const code = await new Promise<number | null>((resolve) => py.once('close', resolve));
    expect(code).toBe(0);
    const m = /^(\d+) (.*)\n$/s.exec(out);
    if (!m) throw new Error(`unexpected answer: ${JSON.stringify(out)}`);
    return { status: Number(m[1]), body: JSON.parse(m[2]!) };
  }

  /** POSTs a send form to the UI from inside host 1. */
  const sendFromPage = (form: Record<string, unknown>): Promise<{ status: number; body: unknown }> => postFromPage('/api/send', { port: 5000, mode: 'text', ...form });

  it('refuses a bench run to a broadcast or multicast address (400), before anything is sent', async () => {
    for (const [host, kind] of [['10.77.0.255', 'broadcast'], ['255.255.255.255', 'broadcast'], ['239.1.2.3', 'multicast'], ['ff02::1', 'multicast']]) {
      expect(await postFromPage('/api/bench', { host, port: 5201 })).toEqual({
        status: 400,
        body: { error: `${host} is a ${kind} address: a bench run goes to one host only` },
      });
    }
  });

  it('refuses broadcast destinations while the box is unticked; ticked, they reach host 2', async () => {
    const py = lan.run(h2, 'python3', ['-u', receiverPy, '5000']);
    let stdout = '';
    let stderr = '';
    py.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const exited = new Promise<number | null>((resolve) => py.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver not bound within 5 s: ${stderr}`)), 5000);
      py.stderr!.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
        if (/^bound 5000$/m.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });

    for (const host of ['10.77.0.255', '255.255.255.255']) {
      expect(await sendFromPage({ host, payload: 'unticked' })).toEqual({
        status: 400,
        body: { error: `${host} is a broadcast address: tick Broadcast to send there` },
      });
    }
    expect(await sendFromPage({ host: '10.77.0.255', payload: 'ticked', broadcast: true })).toEqual({ status: 200, body: { results: [{ ok: true, bytes: 6 }] } });
    expect(await sendFromPage({ host: '10.77.0.255', payload: 'bye', broadcast: true })).toMatchObject({ status: 200 });
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`receiver still running: ${stdout}`)), 5000));
    expect(await Promise.race([exited, timeout])).toBe(0);
    // Only what was sent with the box ticked went out.
    expect(stdout).toMatch(/^received message:ticked from PORT\d+ on 10\.77\.0\.1\nreceived message:bye from PORT\d+ on 10\.77\.0\.1\n$/);
  });
});
