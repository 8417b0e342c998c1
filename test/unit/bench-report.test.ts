import { describe, expect, it } from 'vitest';
import { benchIntervalJson, benchReportJson, formatBenchInterval, formatBenchProgress, formatBenchReport } from '../../src/format/bench.js';
import { IntervalSeries } from '../../src/protocol/bench-intervals.js';
import { buildBenchReport, combineBenchReports, type BenchReportInput } from '../../src/protocol/bench-report.js';

const input: BenchReportInput = {
  server: { address: '192.0.2.7', port: 5201 },
  session: '00000000000000ff',
  length: 125,
  rate: 1000,
  sent: 1000,
  sendUs: 1_000_000,
  // 990 arrivals over 0.989 s: one every ms.
  result: {
    received: 990, duplicates: 2, outOfOrder: 3, late: 0, jitterUs: 250, spanUs: 989_000, kernelDrops: 7,
    delay: { sumUs: 99_000, count: 990, maxUs: 2500 },
  },
  stopped: false,
  burst: 1,
  gaps: { meanUs: 1000, cv: 0.05 },
  intervals: [],
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
    expect(r.rtt).toEqual({
      echoes: 5, lost: 1, minUs: 10, p50Us: 20, p90Us: 40, p99Us: 40, p999Us: 40, maxUs: 40, meanUs: 25,
      histogram: [{ fromUs: 10, toUs: 20, count: 1 }, { fromUs: 20, toUs: 50, count: 3 }],
    });
    expect(JSON.parse(benchReportJson(buildBenchReport({ ...input, echo: { samples: [], sent: 3 } }))).rtt).toMatchObject({ lost: 3, p50Us: null });
  });
});

describe('formatBenchReport', () => {
  it('says how much of the loss the server kernel dropped, and when loss may be off', () => {
    const text = formatBenchReport(buildBenchReport(input));
    expect(text.split('\n')).toEqual([
      'bench to 192.0.2.7:5201/udp, session 00000000000000ff: 125-byte datagrams for 1.00 s, 1000 datagrams/s',
      'sent        1000 datagrams, 1000/s, 1.00 Mbit/s',
      'pacing      burst 1; gaps between sends mean 1000.00 µs, CV 0.050',
      'received    990 datagrams, 1000/s, 1.00 Mbit/s',
      "loss        10 (1.000%), of which the server's kernel dropped 7 (receive buffer full)",
      'loss split  path 3, receiving socket 7; reordered 3, duplicated 2',
      'duplicates  2; out of order 3',
      'jitter      0.250 ms; one-way delay variation mean 0.100 ms, max 2.500 ms',
      '',
    ]);
    const late = formatBenchReport(buildBenchReport({ ...input, result: { ...input.result, late: 4, kernelDrops: undefined } }));
    expect(late).toMatch(/^loss {8}10 \(1\.000%\); the server's kernel drops: n\/a; 4 arrived too late to tell from duplicates, so loss may be off by that much$/m);
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

describe('loss split, delay and streams', () => {
  it('splits loss into the path and the receiving socket, and gives delay variation', () => {
    const r = buildBenchReport(input);
    expect(r.loss).toEqual({ path: 3, socket: 7, reordered: 3, duplicated: 2 });
    expect(r.delay).toEqual({ jitterMs: 0.25, jitterMinMs: NaN, jitterMaxMs: NaN, delayVarMeanMs: 0.1, delayVarMaxMs: 2.5 });
    // An older server: no delay totals, and no kernel counter.
    const old = buildBenchReport({ ...input, result: { ...input.result, delay: undefined, kernelDrops: undefined } });
    expect(old.loss).toEqual({ path: 10, socket: undefined, reordered: 3, duplicated: 2 });
    expect(old.delay.delayVarMeanMs).toBeNull();
    expect(formatBenchReport(old)).toMatch(/^jitter {6}0\.250 ms; one-way delay variation n\/a \(older server\)$/m);
  });

  it('gives the jitter range over the intervals', () => {
    const series = new IntervalSeries(125);
    series.close({ atS: 0.5, sent: 500, received: 495, jitterUs: 100 });
    series.close({ atS: 1, sent: 1000, received: 990, jitterUs: 250 });
    const r = buildBenchReport({ ...input, intervals: series.intervals });
    expect(r.delay).toMatchObject({ jitterMinMs: 0.1, jitterMaxMs: 0.25 });
    expect(formatBenchReport(r)).toMatch(/^jitter {6}0\.250 ms \(min 0\.100, max 0\.250 over 2 intervals\)/m);
  });

  it('adds streams up into a [SUM] line', () => {
    const a = buildBenchReport(input);
    const b = buildBenchReport({ ...input, session: '00000000000000fe', result: { ...input.result, received: 1000, kernelDrops: 5, delay: { sumUs: 0, count: 1000, maxUs: 0 } } });
    const total = combineBenchReports([a, b], []);
    expect(total).toMatchObject({ sent: 2000, received: 1990, lost: 10, lossPercent: 0.5, kernelDrops: 7, session: '00000000000000ff,00000000000000fe' });
    expect(total.loss).toEqual({ path: 3, socket: 7, reordered: 6, duplicated: 4 });
    expect(total.delay.delayVarMeanMs).toBeCloseTo(99 / 1990, 12);
    expect(total.streams).toEqual([a, b]);
    const lines = formatBenchReport(total).split('\n');
    expect(lines[0]).toBe('bench to 192.0.2.7:5201/udp, session 00000000000000ff,00000000000000fe: 2 streams of 125-byte datagrams for 1.00 s, 1000 datagrams/s per stream');
    expect(lines.slice(1, 4)).toEqual([
      '[  1] sent 1000, received 990, lost 10 (1.000%), 1.00 Mbit/s, jitter 0.250 ms, gap CV 0.050',
      '[  2] sent 1000, received 1000, lost 0 (0.000%), 1.01 Mbit/s, jitter 0.250 ms, gap CV 0.050',
      '[SUM] sent 2000, received 1990, lost 10 (0.500%), 2.01 Mbit/s, jitter 0.250 ms, gap CV 0.050',
    ]);
  });
});

describe('intervals', () => {
  it('prints a line per stream and a [SUM], and one JSON object', () => {
    const one = new IntervalSeries(125).close({ atS: 1, sent: 1000, received: 998, jitterUs: 40, delay: { sumUs: 998, count: 998, maxUs: 9 } });
    expect(formatBenchInterval({ direction: 'forward', streams: [one], total: one })).toBe(
      '[  1]     0.00-1.00 s  sent 1000, received 998, lost 2 (0.200%), 1.00 Mbit/s, jitter 0.040 ms, delay var 0.001 ms\n',
    );
    expect(formatBenchInterval({ direction: 'forward', streams: [one, undefined], total: undefined }).split('\n')).toHaveLength(2);
    expect(formatBenchInterval({ direction: 'forward', streams: [one, one], total: one }).split('\n')[2]).toMatch(/^\[SUM\] {5}0\.00-1\.00 s  sent/);
    expect(JSON.parse(benchIntervalJson({ direction: 'forward', streams: [one], total: one }))).toEqual({ type: 'interval', direction: 'forward', interval: { ...one } });
    // The server's traffic (--reverse, --bidir) is told apart.
    expect(formatBenchInterval({ direction: 'reverse', streams: [one, one], total: one }).split('\n').map((l) => l.slice(0, 6))).toEqual(['[R  1]', '[R  2]', '[RSUM]', '']);
  });
});
