/**
 * The web page's rate chart for a listener: datagrams per second over the last minute, one
 * step per second, the newest at the right edge (time 0). Counted by the page from the
 * datagram events it gets; drawn here so the page and the tests share one renderer.
 */
import { stepChart, svgDocument } from './svg-chart.js';

/** Options of {@link rateChartSvg}. */
export interface RateChartOptions {
  readonly title: string;
  /** Datagrams in each second, oldest first; the last is the second that ends now. */
  readonly perSecond: readonly number[];
  readonly width?: number;
  readonly height?: number;
}

/**
 * An SVG element (no XML declaration: it goes inline into the page) with one step series,
 * `data-series="rate"`.
 * @example rateChartSvg({ title: 'port 5000', perSecond: [0, 3, 10] })
 */
export function rateChartSvg(o: RateChartOptions): string {
  const width = o.width ?? 520;
  const height = o.height ?? 200;
  const n = o.perSecond.length;
  const steps = o.perSecond.map((value, k) => ({ from: k - n, to: k - n + 1, value }));
  const body = stepChart({
    title: o.title,
    box: { x: 0, y: 0, width, height },
    x: { label: 'seconds ago', min: -Math.max(n, 1), max: 0 },
    y: { label: 'datagrams/s' },
    id: 'rate',
    color: '#1f77b4',
    steps,
  });
  return svgDocument({ width, height, title: o.title, body, heading: false });
}
