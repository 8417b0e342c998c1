/** The small SVG writer under the charts: ticks, number writing, escaping, panels, and the XML check the chart tests rely on. */
import { describe, expect, it } from 'vitest';
import { niceTicks, scale } from '../../src/format/chart-scale.js';
import { rateChartSvg } from '../../src/format/rate-chart.js';
import { barChart, stepChart, svgDocument } from '../../src/format/svg-chart.js';
import { el, num, xmlEscape } from '../../src/format/svg-writer.js';
import { findAll, parseXml } from '../helpers/xml-check.js';

describe('niceTicks', () => {
  it('extends a value axis to whole steps of 1, 2 or 5 times a power of ten', () => {
    expect(niceTicks(0, 93, 5, true)).toEqual({ min: 0, max: 100, values: [0, 20, 40, 60, 80, 100], decimals: 0 });
    expect(niceTicks(0, 0.013, 5, true)).toEqual({ min: 0, max: 0.014, values: [0, 0.002, 0.004, 0.006, 0.008, 0.01, 0.012, 0.014], decimals: 3 });
    expect(niceTicks(-3, 7, 5, true).values).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('keeps a time axis where the data is, ticks inside it', () => {
    expect(niceTicks(0.3, 9.7, 5, false)).toEqual({ min: 0.3, max: 9.7, values: [2, 4, 6, 8], decimals: 0 });
    expect(niceTicks(-60, 0, 5, false).values).toEqual([-60, -50, -40, -30, -20, -10, 0]);
    // A run of 10.0006 s still gets steps of 2.
    expect(niceTicks(0, 10.0006, 5, false).values).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it('turns an empty or broken range into one that can be drawn', () => {
    expect(niceTicks(0, 0, 5, true)).toMatchObject({ min: 0, max: 1 });
    expect(niceTicks(5, 5, 5, true)).toMatchObject({ min: 5, max: 6 });
    expect(niceTicks(NaN, Infinity, 5, true)).toMatchObject({ min: 0, max: 1 });
  });

  it('maps values to pixels, y upwards', () => {
    expect(scale(0, 10, 0, 100)(2.5)).toBe(25);
    expect(scale(0, 10, 200, 0)(10)).toBe(0);
    expect(scale(3, 3, 0, 100)(3)).toBe(0);
  });
});

describe('svg-writer', () => {
  it('writes numbers the same way everywhere: two decimals at most, no exponent, no -0', () => {
    expect([num(1 / 3), num(2), num(-0.001), num(1e-9), num(12.5), num(NaN), num(123456.789)]).toEqual(['0.33', '2', '0', '0', '12.5', '0', '123456.79']);
  });

  it('escapes markup and replaces what XML cannot hold', () => {
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(xmlEscape('\u0000\t\n\r\u000b\ufffe \udc00 \ud83d\ude00')).toBe('\ufffd\t\n\r\ufffd\ufffd \ufffd \ud83d\ude00');
  });

  it('builds elements, leaving out undefined attributes', () => {
    expect(el('rect', { x: 1.005, y: undefined, class: 'a"b' })).toBe('<rect x="1" class="a&quot;b"/>');
    expect(el('g', {}, el('line'))).toBe('<g><line/></g>');
  });
});

describe('panels', () => {
  const box = { x: 0, y: 0, width: 400, height: 200 };
  const wrap = (body: string): string => `<svg>${body}</svg>`;

  it('joins touching steps into one line and starts a new one after a gap in time', () => {
    const steps = [
      { from: 0, to: 1, value: 1 },
      { from: 1, to: 2, value: 2 },
      { from: 3, to: 4, value: 2 },
    ];
    const root = parseXml(wrap(stepChart({ title: 't', box, x: { label: 'x' }, y: { label: 'y' }, id: 's', color: '#000', steps })));
    const d = findAll(root, (e) => e.name === 'path')[0]?.attributes['d'] ?? '';
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d.match(/L/g)).toHaveLength(4);
  });

  it('joins steps that touch within rounding (0.1 * 3 and 0.3)', () => {
    const steps = [
      { from: 0, to: 0.1 * 3, value: 1 },
      { from: 0.3, to: 0.6, value: 2 },
    ];
    const root = parseXml(wrap(stepChart({ title: 't', box, x: { label: 'x' }, y: { label: 'y' }, id: 's', color: '#000', steps })));
    expect(findAll(root, (e) => e.name === 'path')[0]?.attributes['d']?.match(/M/g)).toHaveLength(1);
  });

  it('draws negative bars below the zero line', () => {
    const root = parseXml(wrap(barChart({ title: 't', box, x: { label: 'x' }, y: { label: 'y' }, id: 'b', color: '#000', bars: [{ from: 0, to: 1, value: -2 }, { from: 1, to: 2, value: 2 }] })));
    const [neg, pos] = findAll(root, (e) => e.name === 'rect');
    expect(Number(neg?.attributes['y'])).toBe(Number(pos?.attributes['y']) + Number(pos?.attributes['height']));
  });

  it('draws a listener rate chart over the last minute', () => {
    const perSecond = Array.from({ length: 60 }, (_, k) => (k === 59 ? 25 : 0));
    const root = parseXml(rateChartSvg({ title: 'port 5000 & more', perSecond }));
    const series = findAll(root, (e) => e.attributes['data-series'] === 'rate');
    expect(series).toHaveLength(1);
    expect(series[0]?.attributes['data-points']).toBe('60');
    expect(root.children[0]).toMatchObject({ name: 'title', text: 'port 5000 & more' });
    const xTicks = findAll(findAll(root, (e) => e.attributes['data-axis'] === 'x')[0]!, (e) => e.name === 'text' && e.attributes['class'] === undefined);
    expect(xTicks.map((t) => t.text)).toEqual(['-60', '-50', '-40', '-30', '-20', '-10', '0']);
  });
});

describe('the XML check the chart tests use', () => {
  it.each([
    ['<a><b></a></b>', /closes/],
    ['<a>1 < 2</a>', /bad tag|raw </],
    ['<a>AT&T</a>', /stray &|unknown entity/],
    ['<a x="1" x="2"/>', /twice/],
    ['<a/><b/>', /second root/],
    ['<a>', /never closed/],
    ['<a x=1/>', /bad attributes/],
    ['<a>\u0001</a>', /does not allow/],
    ['<a>&bogus;</a>', /unknown entity/],
  ])('refuses %j', (xml, why) => {
    expect(() => parseXml(xml)).toThrow(why);
  });

  it('reads text and attributes with their entities decoded', () => {
    expect(parseXml('<a t="&lt;&#39;&#x41;">x &amp; y</a>')).toEqual({ name: 'a', attributes: { t: "<'A" }, children: [], text: 'x & y' });
  });
});

describe('the document heading', () => {
  it('shrinks a long title to fit the width, never below 9 px', () => {
    const size = (title: string): string | undefined => findAll(parseXml(svgDocument({ width: 800, height: 100, title, body: '' })), (e) => e.attributes['class'] === 'chart-title')[0]?.attributes['font-size'];
    expect(size('short')).toBe('16');
    expect(size('x'.repeat(120))).toBe('10');
    expect(size('x'.repeat(1000))).toBe('9');
  });
});
