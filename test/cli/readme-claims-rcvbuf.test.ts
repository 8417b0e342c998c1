/**
 * README, `udpkit listen` flags: "`--rcvbuf BYTES` | receive buffer to ask for (default 8 MB;
 * Linux grants up to `net.core.rmem_max`)". The buffer is read back from the kernel with
 * `ss -uam` (skmem `rb`, which Linux reports as twice what was granted), and a small one must
 * show in the summary as kernel drops under a burst, with shown + kernel dropped = sent.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { killedAfterEach, runCli } from '../helpers/cli.js';
import { parseSummary, sendFrom, shownLines, whileStopped } from '../helpers/listen-accounting.js';
import { pySend } from '../helpers/py-udp.js';
import { udpDrops } from '../helpers/udp-drops.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const { listener } = killedAfterEach();

const RMEM_MAX = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());

/** The receive buffer of the UDP socket bound to `port`, as the kernel accounts it (`rb`). */
function skmemRb(port: number): number {
  const out = execFileSync('ss', ['-H', '-u', '-a', '-m', '-n', `sport = :${port}`], { encoding: 'utf8' });
  const all = [...out.matchAll(/\brb(\d+)\b/g)].map((m) => Number(m[1]));
  if (all.length !== 1) throw new Error(`expected one socket on port ${port}, ss says: ${out}`);
  return all[0] as number;
}

/** What Linux grants for SO_RCVBUF `asked` (capped at rmem_max, then doubled for overhead). */
const granted = (asked: number): number => 2 * Math.min(asked, RMEM_MAX);

const BURST = 200;
const payload = (i: number): Buffer => Buffer.from(`${String(i).padStart(4, '0')} `.padEnd(512, 'x'));

/** Sends a burst of 512-byte datagrams while the listener is stopped, then `bye` once it has read them all. */
async function burstThenBye(l: Awaited<ReturnType<typeof listener>>): Promise<{ drops: number; sent: number }> {
  await whileStopped(l.child, () => sendFrom(l.port, Array.from({ length: BURST }, (_, i) => payload(i))));
  await until(() => udpUnread(l.port) === 0, 15_000, 'the listener reads what its socket held');
  const drops = udpDrops(l.port);
  await pySend(l.port, ['bye']);
  return { drops, sent: BURST + 1 };
}

describe('README: listen --rcvbuf', () => {
  it(`asks the kernel for the given receive buffer: 65536 -> rb ${granted(65536)}; the default asks for 8 MB (rmem_max here: ${RMEM_MAX})`, async () => {
    const small = await listener(['--rcvbuf', '65536']);
    expect(skmemRb(small.port)).toBe(granted(65536));
    const byDefault = await listener([]);
    expect(skmemRb(byDefault.port)).toBe(granted(8 * 1024 * 1024));
    const huge = await listener(['--rcvbuf', String(2 ** 30)]);
    // "Linux grants up to net.core.rmem_max".
    expect(skmemRb(huge.port)).toBe(granted(2 ** 30));
  });

  it(`a buffer too small for a burst of ${BURST} x 512 B: the kernel drops, the summary counts them, shown + kernel dropped = sent`, async () => {
    const l = await listener(['--rcvbuf', '4096']);
    expect(skmemRb(l.port)).toBe(granted(4096));
    const { drops, sent } = await burstThenBye(l);
    const done = await l.done;
    expect(done.code).toBe(0);
    const s = parseSummary(done.stderr);
    console.log(`--rcvbuf 4096: shown ${s.received}, kernel dropped ${s.kernelDropped} of ${sent}`);
    expect(drops).toBeGreaterThan(0);
    expect(s.kernelDropped).toBe(drops);
    expect(s.refused).toBe(undefined);
    expect(shownLines(done.stdout)).toHaveLength(s.received);
    expect(s.received + s.kernelDropped).toBe(sent);
  });

  it(`the default buffer holds the same burst: nothing dropped, all ${BURST + 1} shown`, async () => {
    const l = await listener([]);
    const { drops, sent } = await burstThenBye(l);
    const done = await l.done;
    expect(done.code).toBe(0);
    expect(drops).toBe(0);
    const lines = shownLines(done.stdout);
    expect(lines.map((x) => x.text.slice(0, 4))).toEqual([...Array.from({ length: BURST }, (_, i) => String(i).padStart(4, '0')), 'bye']);
    expect(done.stderr.split('\n').at(-2)).toBe(`received ${sent} datagrams, ${BURST * 512 + 3} bytes; kernel dropped 0`);
  });

  it('refuses a value it cannot ask for, before binding: exit 2, one line and the hint', async () => {
    for (const bad of ['1', '8M', '-5']) {
      const r = await runCli(['listen', '-p', '0', `--rcvbuf=${bad}`]);
      expect(r).toMatchObject({
        code: 2,
        stdout: '',
        stderr: `udpkit: --rcvbuf must be a whole number from 1024 to 2147483647, got "${bad}"\nhint: see 'udpkit listen --help'\n`,
      });
    }
  });
});
