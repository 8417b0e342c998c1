import { describe, expect, it } from 'vitest';
import { benchReportJson, formatBenchProgress, formatBenchReport } from '../../src/format/bench.js';
import { buildBenchReport, type BenchReportInput } from '../../src/protocol/bench-report.js';

const input: BenchReportInput = {
  server: { address: '192.0.2.7', port: 5201 },
  session: '00000000000000ff',
  length: 125,
  rate: 1000,
  sent: 1000,
  sendUs: 1_000_000,
  // 990 arrivals over 0.989 s: one every ms.
  result: { received: 990, duplicates: 2, outOfOrder: 3, late: 0, jitterUs: 250, spanUs: 989_000, kernelDrops: 7 },
  stopped: false,
};

describe('buildBenchReport', () => {
  it('derives rates, Mbit/s of payload, loss and jitter in ms', () => {
    const r = buildBenchReport(input);
    expect(r).toMatchObject({ sent: 1000, sentPerSecond: 1000, sentMbps: 1, received: 990, lost: 10, lossPercent: 1, jitterMs: 0.25, kernelDrops: 7 });
    expect(r.receivedPerSecond).toBeCloseTo(1000, 9);
    expect(r.rtt).toBeUndefined();
  });

  it('summarises echoes, counting the unanswered ones as lost', () => {
    const r = buildBenchReport({ ...input, echo: { samples: [40, 10, 30, 20], sent: 5 } });
    expect(r.rtt).toEqual({ echoes: 5, lost: 1, minUs: 10, p50Us: 20, p90Us: 40, p99Us: 40, maxUs: 40, meanUs: 25 });
    expect(JSON.parse(benchReportJson(buildBenchReport({ ...input, echo: { samples: [], sent: 3 } }))).rtt).toMatchObject({ lost: 3, p50Us: null });
  });
});

describe('formatBenchReport', () => {
  it('says how much of the loss the server kernel dropped, and when loss may be off', () => {
    const text = formatBenchReport(buildBenchReport(input));
    expect(text.split('\n')).toEqual([
      'bench to 192.0.2.7:5201/udp, session 00000000000000ff: 125-byte datagrams for 1.00 s, 1000 datagrams/s',
      'sent        1000 datagrams, 1000/s, 1.00 Mbit/s',
      'received    990 datagrams, 1000/s, 1.00 Mbit/s',
      "loss        10 (1.000%), of which the server's kernel dropped 7 (receive buffer full)",
      'duplicates  2; out of order 3',
      'jitter      0.250 ms',
      '',
    ]);
    const late = formatBenchReport(buildBenchReport({ ...input, result: { ...input.result, late: 4, kernelDrops: undefined } }));
    expect(late).toMatch(/^loss {8}10 \(1\.000%\); server kernel drops: n\/a; 4 arrived too late to tell from duplicates, so loss may be off by that much$/m);
  });

  it('keeps unknown values as null in JSON', () => {
    const json = JSON.parse(benchReportJson(buildBenchReport({ ...input, result: { ...input.result, kernelDrops: undefined } })));
    expect(json.kernelDrops).toBeNull();
  });
});

describe('formatBenchProgress', () => {
  it('shows elapsed time, rate and loss so far, or ? when the server did not say', () => {
    const p = { elapsedMs: 1000.4, sent: 10_001, sentPerSecond: 10_000.6, received: 9_990, lost: 11, lossPercent: 0.11 };
    expect(formatBenchProgress(p)).toBe('   1.0 s  sent 10001 (10001/s)  loss 11 (0.110%)');
    expect(formatBenchProgress({ ...p, received: undefined, lost: undefined, lossPercent: undefined })).toMatch(/loss \?$/);
  });
});
