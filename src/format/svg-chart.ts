/**
 * Chart panels as SVG text: a step line (one value held over each interval, as a bench or a
 * rate counter measures it) and bars (a histogram), each with axes, round ticks and units, and
 * its data in one `<g class="series" data-series="ID">` that tests and scripts can find. Pure
 * string building with no DOM and no clock: `udpkit bench --plot` and the web page (bundled for
 * the browser as dist/app/ui-charts.js) draw with the same code, so the same data looks the same.
 */
import { niceTicks, scale, type Ticks } from './chart-scale.js';
import { el, num, textElement, xmlEscape } from './svg-writer.js';

/** Where a panel sits in its document, in pixels. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** An axis: its label (with the unit, e.g. `time (s)`) and, optionally, a fixed range. */
export interface AxisSpec {
  readonly label: string;
  readonly min?: number;
  readonly max?: number;
}

/** A value held from `from` to `to` on the x axis; `undefined` (or not finite): not measured. */
export interface Step {
  readonly from: number;
  readonly to: number;
  readonly value: number | undefined;
}

/** What every panel has. */
interface PanelOptions {
  readonly title: string;
  readonly box: Box;
  readonly x: AxisSpec;
  readonly y: AxisSpec;
  /** The series' `data-series` name. */
  readonly id: string;
  readonly color: string;
  /** Shown in the plot when there is nothing to draw (e.g. `not measured`). */
  readonly emptyNote?: string;
}

/** Options of {@link stepChart}. */
export interface StepChartOptions extends PanelOptions {
  readonly steps: readonly Step[];
}

/** Options of {@link barChart}: one bar per entry, `from`..`to` wide and `value` high. */
export interface BarChartOptions extends PanelOptions {
  readonly bars: readonly { readonly from: number; readonly to: number; readonly value: number }[];
  /**
   * Each bar in an equal slot labelled with its range, in order, rather than at its place on a
   * linear axis: for bins that widen as they go (1, 2, 5, 10, 20... µs), which a linear axis
   * would squeeze into its first pixels.
   */
  readonly slots?: boolean;
}

// Room around the plot for the title, the tick labels and the axis labels.
const MARGIN = { left: 64, right: 16, top: 26, bottom: 40 };
const TICKS = 5;
const INK = '#444';
const GRID = '#e4e4e4';

const defined = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v);

/** The plot area inside a panel, in the panel's own coordinates. */
function plotArea(box: Box) {
  return { left: MARGIN.left, top: MARGIN.top, right: box.width - MARGIN.right, bottom: box.height - MARGIN.bottom };
}

/** Axes, grid, tick labels and axis labels for the given ticks. */
function axes(o: PanelOptions, xt: Ticks, yt: Ticks): string {
  const p = plotArea(o.box);
  const sx = scale(xt.min, xt.max, p.left, p.right);
  const sy = scale(yt.min, yt.max, p.bottom, p.top);
  const xs = xt.values.map((v) =>
    el('line', { x1: sx(v), y1: p.bottom, x2: sx(v), y2: p.bottom + 5, stroke: INK }) +
    textElement('text', { x: sx(v), y: p.bottom + 18, 'text-anchor': 'middle' }, v.toFixed(xt.decimals)),
  );
  const ys = yt.values.map((v) =>
    el('line', { x1: p.left, y1: sy(v), x2: p.right, y2: sy(v), stroke: GRID }) +
    el('line', { x1: p.left - 5, y1: sy(v), x2: p.left, y2: sy(v), stroke: INK }) +
    textElement('text', { x: p.left - 8, y: sy(v) + 4, 'text-anchor': 'end' }, v.toFixed(yt.decimals)),
  );
  const midY = (p.top + p.bottom) / 2;
  return (
    el('g', { class: 'axis', 'data-axis': 'y' }, ...ys,
      el('line', { x1: p.left, y1: p.top, x2: p.left, y2: p.bottom, stroke: INK }),
      textElement('text', { class: 'axis-label', x: 14, y: midY, 'text-anchor': 'middle', transform: `rotate(-90 14 ${Math.round(midY)})` }, o.y.label)) +
    el('g', { class: 'axis', 'data-axis': 'x' }, ...xs,
      el('line', { x1: p.left, y1: p.bottom, x2: p.right, y2: p.bottom, stroke: INK }),
      textElement('text', { class: 'axis-label', x: (p.left + p.right) / 2, y: p.bottom + 34, 'text-anchor': 'middle' }, o.x.label))
  );
}

/** The panel around its axes and series, with its title and, when empty, the note. */
function panel(o: PanelOptions, xt: Ticks, yt: Ticks, series: string, empty: boolean): string {
  const p = plotArea(o.box);
  const note = empty && o.emptyNote !== undefined
    ? textElement('text', { class: 'note', x: (p.left + p.right) / 2, y: (p.top + p.bottom) / 2, 'text-anchor': 'middle', fill: '#888' }, o.emptyNote)
    : '';
  return el('g', { class: 'panel', 'data-panel': o.id, transform: `translate(${Math.round(o.box.x)} ${Math.round(o.box.y)})` },
    textElement('text', { class: 'panel-title', x: p.left, y: 16, 'font-weight': 'bold' }, o.title),
    axes(o, xt, yt), series, note);
}

/** The value axis: from 0 (or below, for negative values) up past the largest value. */
function valueTicks(values: readonly number[], axis: AxisSpec): Ticks {
  const lo = axis.min ?? Math.min(0, ...values);
  const hi = axis.max ?? Math.max(lo, ...values);
  return niceTicks(lo, hi, TICKS, true);
}

/** The x axis: where the data starts and ends, unless the axis fixes it. */
function spanTicks(items: readonly { from: number; to: number }[], axis: AxisSpec): Ticks {
  const lo = axis.min ?? (items.length ? Math.min(...items.map((s) => s.from)) : 0);
  const hi = axis.max ?? (items.length ? Math.max(...items.map((s) => s.to)) : 1);
  return niceTicks(lo, hi, TICKS, false);
}

/**
 * A step line: each value drawn flat across its interval, joined to the next where intervals
 * touch, broken where a value is missing. One `<path>` in `<g class="series" data-series=ID
 * data-points=N>` (N: the steps with a value).
 * @example stepChart({ title: 'Throughput', box, x: { label: 'time (s)' }, y: { label: 'Mbit/s' }, id: 'throughput', color: '#1f77b4', steps })
 */
export function stepChart(o: StepChartOptions): string {
  const values = o.steps.map((s) => s.value).filter(defined);
  const xt = spanTicks(o.steps, o.x);
  const yt = valueTicks(values, o.y);
  const p = plotArea(o.box);
  const sx = scale(xt.min, xt.max, p.left, p.right);
  const sy = scale(yt.min, yt.max, p.bottom, p.top);
  let d = '';
  let lastTo: number | undefined;
  for (const s of o.steps) {
    if (!defined(s.value)) {
      lastTo = undefined;
      continue;
    }
    const y = num(sy(s.value));
    const x0 = num(sx(s.from));
    const x1 = num(sx(s.to));
    // Touching within rounding (0.1 * 3 against 0.3): joined, not broken.
    const touches = lastTo !== undefined && Math.abs(lastTo - s.from) <= 1e-9 * Math.max(1, Math.abs(s.from));
    d += `${touches ? 'L' : d === '' ? 'M' : ' M'}${x0} ${y}L${x1} ${y}`;
    lastTo = s.to;
  }
  const path = d === '' ? '' : el('path', { d, fill: 'none', stroke: o.color, 'stroke-width': 2, 'stroke-linejoin': 'round' });
  const series = el('g', { class: 'series', 'data-series': o.id, 'data-points': values.length }, path);
  return panel(o, xt, yt, series, values.length === 0);
}

/**
 * Bars, one `<rect class="bar">` per entry (with a `<title>` saying its range and value), in
 * `<g class="series" data-series=ID data-bars=N>`.
 * @example barChart({ title: 'Round-trip histogram', box, x: { label: 'round trip (µs)' }, y: { label: 'count' }, id: 'histogram', color: '#9467bd', bars })
 */
export function barChart(o: BarChartOptions): string {
  const slotted = o.slots === true && o.bars.length > 0;
  // In slots the x axis counts bars (no numeric ticks); each slot gets its range as a label.
  const xt: Ticks = slotted ? { min: 0, max: o.bars.length, values: [], decimals: 0 } : spanTicks(o.bars, o.x);
  const yt = valueTicks(o.bars.map((b) => b.value).filter(defined), o.y);
  const p = plotArea(o.box);
  const sx = scale(xt.min, xt.max, p.left, p.right);
  const sy = scale(yt.min, yt.max, p.bottom, p.top);
  const rects = o.bars.map((b, i) => {
    const v = defined(b.value) ? b.value : 0;
    const x = slotted ? sx(i + 0.1) : sx(b.from);
    const width = slotted ? sx(i + 0.9) - x : sx(b.to) - x;
    const top = sy(Math.max(v, 0));
    return el('rect', { class: 'bar', x, y: top, width: Math.max(width, 0.5), height: Math.max(sy(Math.min(v, 0)) - top, 0), fill: o.color, stroke: '#fff', 'stroke-width': 0.5 },
      textElement('title', {}, `${b.from} to ${b.to}: ${v}`));
  });
  const labels = slotted
    ? o.bars.map((b, i) => textElement('text', { class: 'slot-label', x: sx(i + 0.5), y: p.bottom + 16, 'text-anchor': 'middle', 'font-size': 10 }, `${b.from}-${b.to}`))
    : [];
  const series = el('g', { class: 'series', 'data-series': o.id, 'data-bars': o.bars.length }, ...rects);
  return panel(o, xt, yt, series + labels.join(''), o.bars.length === 0);
}

/**
 * A whole SVG document (without the XML declaration, so it also goes inline into HTML): a
 * white background, `title` as its accessible name and heading, then the panels.
 * @example svgDocument({ width: 800, height: 300, title: 'Rate', body: stepChart(...) })
 */
export function svgDocument(o: { readonly width: number; readonly height: number; readonly title: string; readonly body: string; readonly heading?: boolean }): string {
  // A long title gets a smaller font rather than running off both edges (about 0.6 em a bold character).
  const size = Math.max(9, Math.min(16, Math.floor((o.width * 0.95) / (0.6 * Math.max(o.title.length, 1)))));
  const heading = o.heading === false ? '' : textElement('text', { class: 'chart-title', x: o.width / 2, y: 22, 'text-anchor': 'middle', 'font-size': size, 'font-weight': 'bold' }, o.title);
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', width: o.width, height: o.height, viewBox: `0 0 ${o.width} ${o.height}`, 'font-family': 'system-ui, sans-serif', 'font-size': 12 },
    `<title>${xmlEscape(o.title)}</title>`,
    el('rect', { width: o.width, height: o.height, fill: '#fff' }),
    heading, o.body);
}
