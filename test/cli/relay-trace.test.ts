/** `udpkit relay --trace FILE`: one JSON line per datagram, the same fates for the same seed and input. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, start, waitForStderr, killedAfterEach } from '../helpers/cli.js';
import { pySend } from '../helpers/py-udp.js';
import { seqSink, sendNumbered } from '../helpers/seq-traffic.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const { track } = killedAfterEach();
const dir = mkdtempSync(join(tmpdir(), 'udpkit-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COUNT = 3000;
const IMPAIRED = ['--loss', '20%', '--loss-burst', '2', '--dup', '10%', '--corrupt', '10%', '--reorder', '10%', '--delay', '2', '--up-only'];

interface TraceLine {
  t: number;
  dir: 'up' | 'down';
  size: number;
  fate: string;
  duplicated: boolean;
  corrupted: boolean;
  reordered: boolean;
  delayMs: number;
}

/** Relays COUNT numbered datagrams with a trace; returns the trace's lines, the relay's counts and the numbers the sink got. */
async function traced(name: string, seed: number): Promise<{ lines: TraceLine[]; up: Record<string, number>; got: Set<number> }> {
  const sink = await seqSink();
  try {
    const file = join(dir, name);
    const r = track(start(['relay', '--port', '0', '--bind', '127.0.0.1', '--to', `127.0.0.1:${sink.port}`, '--json', '--seed', String(seed), '--trace', file, ...IMPAIRED], { timeoutMs: 60_000 }));
    const port = Number((await waitForStderr(r, /listening on .*?:(\d+)\/udp/))[1]);
    await sendNumbered(port, COUNT, [sink.port], 500);
    r.child.kill('SIGINT');
    const done = await r.done;
    expect(done.code).toBe(0);
    await until(() => udpUnread(sink.port) === 0, 30_000, 'the sink reads everything');
    const got = new Set((await sink.stop()).map((d) => d.seq));
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as TraceLine);
    return { lines, up: (JSON.parse(done.stdout) as { up: Record<string, number> }).up, got };
  } finally {
    sink.child.kill();
  }
}

const fates = (lines: readonly TraceLine[]): string[] => lines.map((l) => `${l.dir} ${l.size} ${l.fate} ${l.duplicated} ${l.corrupted} ${l.reordered}`);

describe('udpkit relay --trace', () => {
  it('writes one line per datagram that matches the counts and what arrived; the same seed gives the same fates, another seed others', async () => {
    const a = await traced('a.jsonl', 9);
    expect(a.lines).toHaveLength(COUNT);
    for (const l of a.lines) {
      expect(Object.keys(l)).toEqual(['t', 'dir', 'size', 'fate', 'duplicated', 'corrupted', 'reordered', 'delayMs']);
      expect(l).toMatchObject({ dir: 'up', size: 16 });
      expect(l.t).toBeGreaterThanOrEqual(0);
    }
    // Times go forward; a forwarded datagram waits at least the 2 ms delay unless reordered (netem: it skips the delay).
    expect(a.lines.every((l, i) => i === 0 || l.t >= (a.lines[i - 1] as TraceLine).t)).toBe(true);
    for (const l of a.lines.filter((x) => x.fate === 'forwarded')) expect(l.delayMs).toBe(l.reordered ? 0 : 2);
    const count = (pick: (l: TraceLine) => boolean): number => a.lines.filter(pick).length;
    expect(a.up).toMatchObject({
      received: COUNT,
      forwarded: count((l) => l.fate === 'forwarded'),
      dropped: count((l) => l.fate === 'lost'),
      duplicated: count((l) => l.duplicated),
      corrupted: count((l) => l.corrupted),
      reordered: count((l) => l.reordered),
    });
    // The datagrams the trace calls lost are exactly those that never arrived.
    const lost = a.lines.flatMap((l, seq) => (l.fate === 'lost' ? [seq] : []));
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.filter((seq) => a.got.has(seq))).toEqual([]);
    expect(a.got.size + lost.length).toBe(COUNT);

    const b = await traced('b.jsonl', 9);
    expect(fates(b.lines)).toEqual(fates(a.lines));
    const c = await traced('c.jsonl', 10);
    expect(fates(c.lines)).not.toEqual(fates(a.lines));
  }, 120_000);

  it('stops with exit 1 and one line when the trace cannot be written (a full disk: /dev/full)', async () => {
    const r = track(start(['relay', '--port', '0', '--bind', '127.0.0.1', '--to', '127.0.0.1:9', '--trace', '/dev/full']));
    const port = Number((await waitForStderr(r, /listening on [^;]*?:(\d+)\/udp/))[1]);
    await pySend(port, ['one']);
    const done = await r.done;
    expect(done.code).toBe(1);
    expect(done.stderr.split('\n').slice(1)).toEqual([
      'up: received 1, forwarded 1, dropped 0, duplicated 0, reordered 0, rate-limited 0, queue full 0; down: received 0, forwarded 0, dropped 0, duplicated 0, reordered 0, rate-limited 0, queue full 0; clients 1; kernel dropped 0',
      'udpkit: cannot write to --trace /dev/full: no space left on device',
      '',
    ]);
  });

  it('exits 1 with one line when the trace file cannot be created, before relaying anything', async () => {
    const file = join(dir, 'missing', 'trace.jsonl');
    const done = await runCli(['relay', '--port', '0', '--to', '127.0.0.1:9', '--trace', file]);
    expect(done).toMatchObject({ code: 1, stdout: '', stderr: `udpkit: cannot open trace file ${JSON.stringify(file)}: no such file or directory\n` });
  });
});
