/**
 * `udpkit bench --plot FILE`: a bench run as one chart document, throughput, loss and delay
 * over time and the round-trip histogram, as standalone SVG or as an HTML page that fetches
 * nothing. Drawn with the small SVG writer in svg-chart.ts (no charting library: the charts are
 * four plain panels, and a library that renders server-side would weigh more than the CLI).
 * Deterministic: the same data gives the same bytes.
 */
import { barChart, stepChart, svgDocument, type Box } from './svg-chart.js';
import { xmlEscape } from './svg-writer.js';

/** What a bench chart shows; the caller maps its report onto it. */
export interface BenchChartData {
  readonly title: string;
  /** One per interval of the test, in order. delayMs undefined when not measured. */
  readonly intervals: readonly {
    readonly startS: number;
    readonly endS: number;
    readonly mbps: number;
    readonly lossPercent: number;
    readonly delayMs?: number;
  }[];
  /** Round-trip (or delay) histogram; empty when not measured. */
  readonly histogram: readonly { readonly fromUs: number; readonly toUs: number; readonly count: number }[];
}

const WIDTH = 800;
const HEADING = 36;
const PANEL = 210;
const NOT_MEASURED = 'not measured';

/** The four panels, top to bottom. */
function panels(data: BenchChartData): string {
  const box = (i: number): Box => ({ x: 0, y: HEADING + i * PANEL, width: WIDTH, height: PANEL });
  const time = { label: 'time (s)' };
  const steps = (value: (i: BenchChartData['intervals'][number]) => number | undefined) =>
    data.intervals.map((i) => ({ from: i.startS, to: i.endS, value: value(i) }));
  return [
    stepChart({ title: 'Throughput', box: box(0), x: time, y: { label: 'Mbit/s' }, id: 'throughput', color: '#1f77b4', steps: steps((i) => i.mbps), emptyNote: NOT_MEASURED }),
    stepChart({ title: 'Loss', box: box(1), x: time, y: { label: 'loss (%)' }, id: 'loss', color: '#d62728', steps: steps((i) => i.lossPercent), emptyNote: NOT_MEASURED }),
    stepChart({ title: 'Delay variation', box: box(2), x: time, y: { label: 'over the least (ms)' }, id: 'delay', color: '#2ca02c', steps: steps((i) => i.delayMs), emptyNote: NOT_MEASURED }),
    barChart({
      title: 'Round-trip histogram',
      box: box(3),
      x: { label: 'round-trip time (µs)' },
      y: { label: 'count' },
      id: 'histogram',
      color: '#9467bd',
      bars: data.histogram.map((b) => ({ from: b.fromUs, to: b.toUs, value: b.count })),
      // The bins widen 1, 2, 5, 10... µs: on a linear axis all but the last would be slivers.
      slots: true,
      emptyNote: NOT_MEASURED,
    }),
  ].join('');
}

/** The chart as an `<svg>` element, ready to stand alone or go inline into HTML. */
function benchChartElement(data: BenchChartData): string {
  return svgDocument({ width: WIDTH, height: HEADING + 4 * PANEL, title: data.title, body: panels(data) });
}

/**
 * A standalone SVG document: throughput, loss and delay over time, and the histogram.
 * @example writeFileSync('run.svg', benchChartSvg({ title: 'bench 127.0.0.1', intervals, histogram: [] }))
 */
export function benchChartSvg(data: BenchChartData): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${benchChartElement(data)}\n`;
}

const STYLE = 'body{font-family:system-ui,sans-serif;margin:1rem;color:#111;background:#fafafa}svg{max-width:100%;height:auto}' +
  'table{border-collapse:collapse;margin-top:1rem}th,td{padding:.15rem .6rem;text-align:right;border-bottom:1px solid #ddd}';

const cell = (n: number | undefined, digits: number): string => `<td>${n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits)}</td>`;

/**
 * A standalone HTML page (no network fetches, no external scripts) with the same charts, and
 * the intervals as a table. Its Content-Security-Policy forbids loading anything at all.
 * @example writeFileSync('run.html', benchChartHtml(data))
 */
export function benchChartHtml(data: BenchChartData): string {
  const title = xmlEscape(data.title);
  const rows = data.intervals
    .map((i) => `<tr>${cell(i.startS, 2)}${cell(i.endS, 2)}${cell(i.mbps, 3)}${cell(i.lossPercent, 3)}${cell(i.delayMs, 3)}</tr>`)
    .join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${title}</h1>`,
    benchChartElement(data),
    '<table>',
    '<thead><tr><th scope="col">from (s)</th><th scope="col">to (s)</th><th scope="col">Mbit/s</th><th scope="col">loss (%)</th><th scope="col">delay (ms)</th></tr></thead>',
    `<tbody>\n${rows}\n</tbody>`,
    '</table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
