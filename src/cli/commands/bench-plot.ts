/**
 * `udpkit bench --plot FILE`: the report drawn by format/bench-chart.ts, SVG or HTML by FILE's
 * extension. Throughput and loss come from the report's intervals, delay from each interval's
 * mean one-way delay variation (relative to the least delay seen: no synchronised clocks
 * needed), the histogram from the round trips of `--rtt`.
 */
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UdpkitError, UsageError, describeErrno, errnoOf } from '../../errors.js';
import { benchChartHtml, benchChartSvg, type BenchChartData } from '../../format/bench-chart.js';
import type { BenchReport } from '../../protocol/bench-report.js';

/** Interval length when --plot is given without -i: a point a second, as iperf3 reports. */
export const PLOT_INTERVAL_MS = 1000;

/** The document --plot writes, from FILE's extension; a usage error for any other. */
export function plotKind(file: string): 'svg' | 'html' {
  const ext = extname(file).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.html' || ext === '.htm') return 'html';
  throw new UsageError(`--plot ${file}: the file must end in .svg or .html (that is what is written)`);
}

/** What the chart shows of `report` (the client's traffic; with --reverse, the server's). */
export function benchChartData(report: BenchReport, target: string): BenchChartData {
  const rate = report.rate === 0 ? 'as fast as possible' : `${report.rate}/s`;
  return {
    title: `udpkit bench ${target}: ${report.direction === 'reverse' ? 'the server sent' : 'sent'} ${report.length} B datagrams, ${rate}`,
    intervals: report.intervals.map((i) => ({
      startS: i.startS,
      endS: i.endS,
      mbps: i.mbps,
      lossPercent: i.lossPercent,
      ...(i.delayVarMs !== null ? { delayMs: i.delayVarMs } : {}),
    })),
    histogram: report.rtt?.histogram ?? [],
  };
}

/** Writes the chart of `report` to `file`; `UDPKIT_IO_FAILED` naming the file when it cannot. */
export function writePlot(file: string, report: BenchReport, target: string): void {
  const data = benchChartData(report, target);
  try {
    writeFileSync(file, plotKind(file) === 'svg' ? benchChartSvg(data) : benchChartHtml(data));
  } catch (err) {
    throw new UdpkitError('UDPKIT_IO_FAILED', `cannot write --plot ${JSON.stringify(file)}: ${describeErrno(errnoOf(err))}`, { syscall: 'open', errno: errnoOf(err), cause: err });
  }
}
