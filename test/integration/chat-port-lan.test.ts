/**
 * `udpkit chat --port 0` takes a free UDP port and TCP on the same number for file transfers
 * (IP Messenger's rule). The kernel picks the UDP port without looking at TCP, so the number it
 * gives may be a TCP port in use; chat then gives the UDP port back and tries another. Checked
 * in a network namespace whose ephemeral range is two ports (40000-40001) with TCP 40000 held by
 * Python: every start must land on 40001. Without the retry half the starts failed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { JsonLines } from '../helpers/json-lines.js';
import { createLan, probeNetns, type Lan, type LanHost } from '../helpers/netns-lan.js';

const support = probeNetns();
if (!support.ok) console.warn(`SKIPPED chat port LAN tests: ${support.reason}`);

const run$ = promisify(execFile);
const HOLD_TCP = `
import socket, sys
s = socket.socket()
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen()
print('holding', flush=True)
sys.stdin.read()
`;
const HOLD_UDP = HOLD_TCP.replace('socket.socket()', 'socket.socket(socket.AF_INET, socket.SOCK_DGRAM)').replace('s.listen()\n', '');

describe.skipIf(!support.ok)('`udpkit chat --port 0` when the TCP twin of the free UDP port is taken', () => {
  let lan: Lan;
  let h: LanHost;

  const hold = async (script: string, port: number): Promise<JsonLines> => {
    const holder = new JsonLines(`hold ${port}`, lan.run(h, 'python3', ['-c', script, String(port)]));
    await holder.waitFor((e) => e.event === 'not-json' && e.line === 'holding', 'holding', { ms: 10_000 });
    return holder;
  };

  beforeAll(async () => {
    lan = await createLan(1);
    h = lan.hosts[0]!;
    await run$(h.exec[0]!, [...h.exec.slice(1), 'sysctl', '-w', 'net.ipv4.ip_local_port_range=40000 40001'], { timeout: 10_000 });
  }, 60_000);
  afterAll(() => lan?.destroy(), 30_000);

  it('lands on the port whose UDP and TCP are both free, every time', async () => {
    const tcp = await hold(HOLD_TCP, 40000);
    try {
      for (let i = 0; i < 8; i++) {
        const c = new JsonLines(`chat ${i}`, lan.run(h, process.execPath, [BIN, 'chat', '--json', '--port', '0', '--name', `n${i}`]));
        const ready = await c.waitFor((e) => e.event === 'ready', 'ready', { ms: 15_000 });
        expect(ready.port).toBe(40001);
        c.send('/quit');
        expect(await c.closed).toEqual({ code: 0, signal: null });
      }
    } finally {
      tcp.send('');
      tcp.child.stdin!.end();
      await tcp.closed;
    }
  }, 120_000);

  it('gives up with one line when no free UDP port has a free TCP twin, and a named port is never swapped', async () => {
    const tcp = await hold(HOLD_TCP, 40000);
    const udp = await hold(HOLD_UDP, 40001);
    try {
      for (const port of ['0', '40000']) {
        const c = new JsonLines(`chat --port ${port}`, lan.run(h, process.execPath, [BIN, 'chat', '--json', '--port', port, '--name', 'x']));
        expect(await c.closed).toEqual({ code: 1, signal: null });
        expect(c.events).toEqual([]);
        expect(c.stderr).toMatch(/^udpkit: cannot listen for file transfers on 0\.0\.0\.0:40000\/tcp: EADDRINUSE[^\n]*\n$/);
      }
    } finally {
      for (const holder of [tcp, udp]) holder.child.stdin!.end();
      await Promise.all([tcp.closed, udp.closed]);
    }
  }, 120_000);
});
