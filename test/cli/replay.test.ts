/**
 * `udpkit send --replay`: captures made by tcpdump of Python's sockets replay into `udpkit
 * listen` and a Python receiver with the same payloads in order; the gaps are kept; a damaged
 * file stops the replay with one line and exit 1 after what came before.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/transport/read-capture.js';
import { killedAfterEach, runCli, waitForLines } from '../helpers/cli.js';
import { epb, ethernet, idb, ipv4, ipv6, pcap, shb, sll2, udp } from '../helpers/capture-bytes.js';
import { replayAll, stopAndAccount } from '../helpers/replay-check.js';
import { pyReceiver, pySend } from '../helpers/py-udp.js';
import { startTcpdump, timedReceiver } from '../helpers/tcpdump.js';

const dir = mkdtempSync(join(tmpdir(), 'udpkit-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { listener } = killedAfterEach();

/** A pcap (Ethernet) of UDP datagrams 127.0.0.1:4000 -> :5000, `gapUs` apart. */
function spacedCapture(payloads: readonly string[], gapUs: number): Buffer {
  return pcap(
    1,
    payloads.map((p, i) => {
      const us = 1_700_000_000_000_000 + i * gapUs;
      return { seconds: Math.floor(us / 1e6), fraction: us % 1e6, frame: ethernet(ipv4('127.0.0.1', '127.0.0.1', udp(4000, 5000, Buffer.from(p)))) };
    }),
  );
}

describe('send --replay of tcpdump captures', () => {
  const payloads = ['first', 'second datagram', 'x'.repeat(1400), 'caf\u00e9 \u2603', '', 'last one'];
  let file: string;
  let senderPort = 0;
  let originalPort = 0;

  // The fixture: tcpdump on lo records Python's sender talking to Python's receiver.
  beforeAll(async () => {
    file = join(dir, 'lo.pcap');
    const original = await pyReceiver({ count: payloads.length });
    originalPort = original.port;
    const dump = await startTcpdump('lo', file, payloads.length, ['udp', 'port', String(original.port)]);
    senderPort = await pySend(original.port, payloads);
    expect((await original.waitFor(payloads.length)).map((d) => d.text)).toEqual(payloads);
    expect(await dump.done()).toBe(payloads.length);
  }, 30_000);

  it('readCapture reads the file and a stream of it alike: the payloads, addresses and ports', async () => {
    const { createReadStream } = await import('node:fs');
    for (const source of [file, createReadStream(file)]) {
      const capture = readCapture(source);
      const got = [];
      for await (const p of capture) got.push([p.from.address, p.from.port, p.to.address, p.to.port, p.data.toString()]);
      expect(got).toEqual(payloads.map((p) => ['127.0.0.1', senderPort, '127.0.0.1', originalPort, p]));
      expect(capture.stats).toEqual({ frames: payloads.length, skipped: {}, format: 'pcap' });
    }
  });

  it('replays into udpkit listen: the same payloads in order, every one accounted for', async () => {
    // listen shows the empty datagram as an empty text; every other payload is plain text.
    expect(await replayAll(file, await listener(), payloads.length)).toEqual(payloads);
  });

  it('replays into a Python receiver byte for byte, with the original gaps (speed 1)', async () => {
    const py = await pyReceiver({ count: payloads.length });
    const r = await runCli(['send', '--replay', file, `127.0.0.1:${py.port}`]);
    expect(r.code).toBe(0);
    expect((await py.waitFor(payloads.length)).map((d) => d.text)).toEqual(payloads);
  });
});

describe('send --replay timing', () => {
  const five = ['t0', 't1', 't2', 't3', 't4'];
  const file = join(dir, 'gaps.pcap');
  writeFileSync(file, spacedCapture(five, 100_000));

  /** Replays at `speed` into a timed receiver; the seconds from the first datagram to the last. */
  async function span(speed: string | undefined): Promise<number> {
    const rx = await timedReceiver(five.length);
    const r = await runCli(['send', '--replay', file, `127.0.0.1:${rx.port}`, ...(speed === undefined ? [] : ['--speed', speed])]);
    expect(r.code, r.stderr).toBe(0);
    const got = await rx.all;
    expect(got.map((d) => d.data.toString())).toEqual(five);
    return (got[4]!.t - got[0]!.t) as number;
  }

  it('keeps the gaps: 5 packets 0.1 s apart take 0.4 s +- 20%', async () => {
    const s = await span(undefined);
    expect(s).toBeGreaterThan(0.32);
    expect(s).toBeLessThan(0.48);
  });

  it('--speed 2 halves them; --speed 0 does not wait', async () => {
    const half = await span('2');
    expect(half).toBeGreaterThan(0.16);
    expect(half).toBeLessThan(0.24);
    expect(await span('0')).toBeLessThan(0.1);
  });
});

describe('send --replay: filters, repeats, skips and faults', () => {
  it('--filter-port and --repeat, with what was skipped by reason', async () => {
    const frames = [
      ethernet(ipv4('10.0.0.1', '10.0.0.2', Buffer.alloc(20), { protocol: 6 })),
      ethernet(Buffer.alloc(28), [], 0x0806),
      ethernet(ipv4('10.0.0.1', '10.0.0.2', udp(40000, 53, Buffer.from('query a')))),
      ethernet(ipv4('10.0.0.2', '10.0.0.1', udp(53, 40000, Buffer.from('answer a')))),
      ethernet(ipv4('10.0.0.1', '10.0.0.3', udp(40001, 9999, Buffer.from('other')))),
    ];
    const file = join(dir, 'mixed.pcap');
    writeFileSync(file, pcap(1, frames.map((frame, i) => ({ seconds: 1, fraction: i, frame }))));
    const l = await listener();
    const r = await runCli(['send', '--replay', file, `127.0.0.1:${l.port}`, '--filter-port', '53', '--repeat', '2', '--speed', '0']);
    expect(r.stderr).toBe(`replayed 4 of 6 UDP packets to 127.0.0.1:${l.port}/udp (6 skipped: 2 other ports (--filter-port), 2 not UDP, 2 not IP)\n`);
    expect(r.code).toBe(0);
    await waitForLines(l, 4);
    expect(await stopAndAccount(l, 4)).toEqual(['query a', 'answer a', 'query a', 'answer a']);
  });

  it('a capture cut short: what came before is replayed, then one line with the byte offset, exit 1', async () => {
    const whole = spacedCapture(['one', 'two', 'three'], 10);
    const file = join(dir, 'cut.pcap');
    writeFileSync(file, whole.subarray(0, whole.length - 4));
    const l = await listener();
    const r = await runCli(['send', '--replay', file, `127.0.0.1:${l.port}`]);
    const third = 24 + 2 * (16 + 14 + 20 + 8 + 3);
    expect(r.stderr).toBe(
      `replayed 2 of 2 UDP packets to 127.0.0.1:${l.port}/udp (0 skipped)\n` +
        `udpkit: cannot replay ${JSON.stringify(file)}: cut short: ${16 + 14 + 20 + 8 + 5 - 4} of ${16 + 14 + 20 + 8 + 5} bytes of a record at byte ${third}\n`,
    );
    expect(r.code).toBe(1);
    await waitForLines(l, 2);
    expect(await stopAndAccount(l, 2)).toEqual(['one', 'two']);
  });

  it('--replay - reads the capture from stdin (a pcapng here, as tcpdump -w - | ... would give)', async () => {
    const frames = ['from', 'a', 'pipe'].map((t, i) => epb(0, 1_700_000_000_000_000n + BigInt(i), ethernet(ipv4('10.1.1.1', '10.1.1.2', udp(7, 8, Buffer.from(t))))));
    const l = await listener();
    const r = await runCli(['send', '--replay', '-', `127.0.0.1:${l.port}`], { input: Buffer.concat([shb(), idb(1), ...frames]) });
    expect(r.stderr).toBe(`replayed 3 of 3 UDP packets to 127.0.0.1:${l.port}/udp (0 skipped)\n`);
    expect(r.code).toBe(0);
    await waitForLines(l, 3);
    expect(await stopAndAccount(l, 3)).toEqual(['from', 'a', 'pipe']);
  });

  it('IPv6 packets (with a hop-by-hop header, over Linux cooked SLL2) replay to an IPv6 destination', async () => {
    const file = join(dir, 'v6.pcap');
    const frames = ['six one', 'six two'].map((t) => sll2(ipv6('2001:db8::1', '2001:db8::2', udp(9, 10, Buffer.from(t)), [{ type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0] }])));
    writeFileSync(file, pcap(276, frames.map((frame, i) => ({ seconds: 5, fraction: i, frame }))));
    const rx = await timedReceiver(2, '::1');
    const r = await runCli(['send', '--replay', file, `[::1]:${rx.port}`]);
    expect(r.stderr).toBe(`replayed 2 of 2 UDP packets to [::1]:${rx.port}/udp (0 skipped)\n`);
    expect(r.code).toBe(0);
    expect((await rx.all).map((d) => d.data.toString())).toEqual(['six one', 'six two']);
  });

  it('a file that is not a capture, and one that is not there: exit 1, one line each', async () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello, not a capture\n');
    const a = await runCli(['send', '--replay', text, '127.0.0.1:9']);
    expect(a.stderr).toMatch(new RegExp(`^replayed 0 of 0 UDP packets to 127\\.0\\.0\\.1:9/udp \\(0 skipped\\)\\nudpkit: cannot replay ".*notes\\.txt": not a pcap or pcapng capture \\(magic 68656c6c\\) at byte 0\\n$`));
    expect(a.code).toBe(1);
    const b = await runCli(['send', '--replay', join(dir, 'absent.pcap'), '127.0.0.1:9']);
    expect(b.stderr).toMatch(/udpkit: cannot read ".*absent\.pcap": no such file or directory\n$/);
    expect(b.code).toBe(1);
  });

  it('--ack: each payload acknowledged by udpkit listen, in order', async () => {
    const file = join(dir, 'ack.pcap');
    writeFileSync(file, spacedCapture(['a1', 'a2', 'a3'], 1000));
    const l = await listener();
    const r = await runCli(['send', '--replay', file, `127.0.0.1:${l.port}`, '--ack']);
    expect(r.stderr).toMatch(new RegExp(`^replayed 3 of 3 UDP packets to 127\\.0\\.0\\.1:${l.port}/udp \\(0 skipped\\), all confirmed \\(\\d+ retransmissions?\\)\\n$`));
    expect(r.code).toBe(0);
    await waitForLines(l, 3);
    expect(await stopAndAccount(l, 3)).toEqual(['a1', 'a2', 'a3']);
  });

  it('flags that do not go with --replay, and replay flags without it, are usage errors (exit 2)', async () => {
    const file = join(dir, 'gaps.pcap');
    const cases: [string[], RegExp][] = [
      [['send', '--replay', file, '127.0.0.1:9', 'hello'], /give no MESSAGE/],
      [['send', '--replay', file, '127.0.0.1:9', '--count', '3'], /--count does not apply to --replay/],
      [['send', '--replay', file, '127.0.0.1:9', '--hex', 'ff'], /--hex does not apply to --replay/],
      [['send', '--replay', file, '127.0.0.1:9', '--tcp'], /--replay does not apply to --tcp/],
      [['send', '127.0.0.1:9', '--speed', '2', 'x'], /--speed applies only with --replay/],
      [['send', '--replay', file, '127.0.0.1:9', '--speed', 'fast'], /--speed must be a number >= 0/],
      [['send', '--replay', '-', '127.0.0.1:9', '--repeat', '2'], /--repeat needs a file/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
