/**
 * Attacks on a listener's --ack intake, from test/fixtures/ack_flood.py (frames built by hand from
 * docs/protocol.md, paced by the listener's own acknowledgements): held empty messages by the
 * hundred thousand must cost bounded memory, and forged sessions by the thousand must not evict
 * a real `udpkit send --ack`. In each, shown + refused + kernel dropped = sent, exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { start, startListener, waitForLines, type Running } from '../helpers/cli.js';
import { ackFlood, memoryOf, parseSummary, sendFrom, shownLines } from '../helpers/listen-accounting.js';

const running: Running[] = [];
afterEach(() => {
  for (const r of running.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
});
async function listener(args: string[]) {
  const l = await startListener(args, { timeoutMs: 170_000 });
  running.push(l);
  return l;
}
const lines = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const sources = (from: number, count: number): string => Array.from({ length: count }, (_, i) => `127.0.0.${from + i}`).join(',');
/** The four messages the flood's pacer delivers. */
const PACER = ['pace 0', 'pace 1', 'pace 2', 'pace 3'];

describe('--ack intake under attack', () => {
  it('1,024 sessions x 256 held empty messages: memory grows by under 64 MB, and every datagram is accounted for', async () => {
    const l = await listener(['--linger', '0']);
    const before = memoryOf(l.child.pid as number);
    // 16 source addresses x 64 sessions (the per-source limit) = 1,024 sessions, 262,144 DATA frames.
    const sent = await ackFlood(l.port, ['--mode', 'held', '--sources', sources(1, 16), '--sessions', '64', '--held', '256']);
    const after = memoryOf(l.child.pid as number);
    await sendFrom(l.port, [Buffer.from('bye')], '127.0.0.254');
    const done = await l.done;
    expect(done.code).toBe(0);
    const grown = after.hwm - before.rss;
    console.log(`held-message flood: RSS ${(before.rss / 2 ** 20).toFixed(1)} MB before, peak ${(after.hwm / 2 ** 20).toFixed(1)} MB; ${done.stderr.split('\n').at(-2)}`);
    expect(grown).toBeLessThan(64 * 2 ** 20);
    const s = parseSummary(done.stderr);
    const shown = shownLines(done.stdout);
    expect(shown.map((x) => x.text)).toEqual([...PACER, 'bye']);
    expect(s.received).toBe(shown.length);
    expect(s.received + (s.refused ?? 0) + s.kernelDropped).toBe(sent + 1);
    // The memory budget did its work: most held messages were refused, not kept.
    expect(s.refusedBy['memory']).toBeGreaterThan(200_000);
  }, 180_000);

  for (const variant of [
    { name: 'from one socket at the sender\'s own address', sources: '127.0.0.1', sessions: '1100' },
    { name: 'from 20 addresses 127.0.0.2-21', sources: sources(2, 20), sessions: '55' },
  ]) {
    it(`a real send --ack survives 1,100 forged sessions ${variant.name}`, async () => {
      const l = await listener(['--linger', '0']);
      const sender = start(['send', '--ack', `127.0.0.1:${l.port}`], { timeoutMs: 60_000 });
      running.push(sender);
      sender.child.stdin!.write(lines(1, 150).join('\n') + '\n');
      await waitForLines(l, 150);
      // The real session now waits for input, the idlest of all; each forged frame starts a new
      // session, then every 10th is sent again (a retransmission of a session that may be gone).
      const flooded = await ackFlood(l.port, ['--mode', 'forged', '--sources', variant.sources, '--sessions', variant.sessions, '--resend', '10']);
      sender.child.stdin!.end(lines(151, 300).join('\n') + '\n');
      const s = await sender.done;
      expect(s.code).toBe(0);
      const m = new RegExp(`^sent 300 messages to 127\\.0\\.0\\.1:${l.port}/udp, all confirmed \\((\\d+) retransmissions\\)\\n$`).exec(s.stderr);
      expect(m, s.stderr).not.toBeNull();
      await sendFrom(l.port, [Buffer.from('bye')], '127.0.0.254');
      const done = await l.done;
      expect(done.code).toBe(0);
      const shown = shownLines(done.stdout);
      const forged = shown.filter((x) => x.text === '').length;
      expect(shown.filter((x) => x.text !== '' && !PACER.includes(x.text) && x.text !== 'bye').map((x) => x.text)).toEqual(lines(1, 300));
      expect(forged).toBeGreaterThanOrEqual(1025);
      const summary = parseSummary(done.stderr);
      console.log(`forged sessions ${variant.name}: ${done.stderr.split('\n').at(-2)}`);
      expect(summary.received).toBe(shown.length);
      expect(summary.received + (summary.refused ?? 0) + summary.kernelDropped).toBe(300 + Number(m![1]) + flooded + 1);
      // Forged sessions pushed out forged sessions: beyond the per-source limit (64, the real
      // session one of them) or the total (1,024, with the real sender and the pacer).
      const kept = variant.sources === '127.0.0.1' ? 63 : 1024 - 2;
      expect(summary.sessionsEvicted).toBe(forged - kept);
      expect(summary.refusedBy['evicted']).toBeGreaterThan(0);
      expect(summary.refusedBy['duplicate']).toBeGreaterThan(0);
    }, 90_000);
  }
});
