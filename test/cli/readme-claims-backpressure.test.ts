/**
 * README, `udpkit listen`: "When stdout or the log cannot keep up, udpkit stops reading the
 * socket instead of queueing in memory, so a flood costs datagrams the kernel counts, never
 * unbounded memory." Checked through the whole CLI path (DatagramSink pausing the listener),
 * with stdout on a pipe that the test stops reading, flooded by Python's socket module.
 */
import { describe, expect, it } from 'vitest';
import { killedAfterEach } from '../helpers/cli.js';
import { parseSummary, shownLines } from '../helpers/listen-accounting.js';
import { procMemory } from '../helpers/proc-memory.js';
import { pyFlood, pySend } from '../helpers/py-udp.js';
import { udpDrops } from '../helpers/udp-drops.js';
import { udpUnread } from '../helpers/udp-queues.js';
import { until } from '../helpers/until.js';

const { listener } = killedAfterEach();

const COUNT = 100_000;
const SIZE = 1000;
/** What the listener may grow by while 100 MB arrive that it cannot show. */
const GROWTH_LIMIT = 64 * 1024 * 1024;

describe('README: the listener stops reading when its output cannot keep up', () => {
  it(`${COUNT} x ${SIZE} B at a stdout nobody reads: the kernel holds and drops them, memory stays bounded; once read, shown + kernel dropped = sent`, async () => {
    const l = await listener([], { timeoutMs: 60_000 });
    // The test stops reading the pipe: the listener's writes pile up in it, then in udpkit.
    l.child.stdout!.pause();
    const pid = l.child.pid as number;
    const before = procMemory(pid).hwm;
    const from = await pyFlood(l.port, COUNT, SIZE);
    // Paused, the listener leaves datagrams in its socket; once that is full the kernel drops.
    await until(() => udpDrops(l.port) > 0, 30_000, 'the kernel drops datagrams for the paused listener');
    // Not reading means the socket's queue stays where it is (a reading listener empties it).
    let last = -1;
    let same = 0;
    await until(() => {
      const now = udpUnread(l.port);
      same = now === last ? same + 1 : 0;
      last = now;
      return same >= 10;
    }, 30_000, "the listener's socket queue stops changing");
    const stalled = last;
    const grown = procMemory(pid).hwm - before;
    console.log(`stdout blocked: kernel dropped ${udpDrops(l.port)}, ${stalled} bytes unread in the socket, VmHWM +${(grown / 2 ** 20).toFixed(1)} MiB`);
    expect(stalled).toBeGreaterThan(0);
    expect(grown).toBeLessThan(GROWTH_LIMIT);

    // The reader comes back: the listener shows what it held and reads its socket empty.
    l.child.stdout!.resume();
    await until(() => udpUnread(l.port) === 0, 30_000, 'the listener reads what its socket held');
    await pySend(l.port, ['bye']);
    const done = await l.done;
    expect(done.code).toBe(0);
    const lines = shownLines(done.stdout);
    const s = parseSummary(done.stderr);
    expect(done.stderr).not.toMatch(/while output was blocked/);
    expect(s.refused).toBe(undefined);
    expect(lines).toHaveLength(s.received);
    expect(lines.at(-1)?.text).toBe('bye');
    // Shown in the order sent, each one once, from the flood's own socket.
    const numbers = lines.slice(0, -1).map((x) => {
      expect(x.port).toBe(from);
      return Number(x.text.slice(0, 8));
    });
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1] as number);
    expect(s.kernelDropped).toBeGreaterThan(0);
    expect(s.received + s.kernelDropped).toBe(COUNT + 1);
    console.log(`shown ${s.received}, kernel dropped ${s.kernelDropped}, of ${COUNT + 1} sent`);
  }, 90_000);
});
