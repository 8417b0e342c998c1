/** `udpkit bench --plot`'s renderer: well-formed, one series per quantity, escaped, deterministic. */
import { describe, expect, it } from 'vitest';
import { benchChartHtml, benchChartSvg, type BenchChartData } from '../../src/format/bench-chart.js';
import { findAll, parseXml, type XmlElement } from '../helpers/xml-check.js';

const QUANTITIES = ['throughput', 'loss', 'delay', 'histogram'];

const data: BenchChartData = {
  title: 'bench to 127.0.0.1:5201/udp',
  intervals: [
    { startS: 0, endS: 1, mbps: 5.12, lossPercent: 0, delayMs: 0.05 },
    { startS: 1, endS: 2, mbps: 4.9, lossPercent: 1.5, delayMs: 0.07 },
    { startS: 2, endS: 2.5, mbps: 5.01, lossPercent: 0 },
  ],
  histogram: [
    { fromUs: 20, toUs: 30, count: 4 },
    { fromUs: 30, toUs: 40, count: 90 },
    { fromUs: 40, toUs: 50, count: 6 },
    { fromUs: 50, toUs: 60, count: 0 },
    { fromUs: 60, toUs: 70, count: 1 },
  ],
};

const series = (root: XmlElement): XmlElement[] => findAll(root, (e) => e.name === 'g' && e.attributes['class'] === 'series');
const one = (root: XmlElement, id: string): XmlElement => {
  const found = series(root).filter((e) => e.attributes['data-series'] === id);
  expect(found).toHaveLength(1);
  return found[0] as XmlElement;
};

describe('benchChartSvg', () => {
  it('is a well-formed SVG document with exactly one series per quantity', () => {
    const svg = benchChartSvg(data);
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(series(root).map((e) => e.attributes['data-series'])).toEqual(QUANTITIES);
    expect(one(root, 'throughput').attributes['data-points']).toBe('3');
    expect(one(root, 'loss').attributes['data-points']).toBe('3');
    // The last interval has no delay: two points, one path.
    expect(one(root, 'delay').attributes['data-points']).toBe('2');
    expect(findAll(one(root, 'throughput'), (e) => e.name === 'path')).toHaveLength(1);
  });

  it('draws one bar per histogram bin, its title saying its range and count', () => {
    const bars = findAll(one(parseXml(benchChartSvg(data)), 'histogram'), (e) => e.name === 'rect');
    expect(bars).toHaveLength(data.histogram.length);
    expect(bars.every((b) => b.attributes['class'] === 'bar')).toBe(true);
    expect(bars.map((b) => b.children[0]?.text)).toEqual(['20 to 30: 4', '30 to 40: 90', '40 to 50: 6', '50 to 60: 0', '60 to 70: 1']);
    // The tallest bar reaches the top tick; a zero bar has no height.
    const heights = bars.map((b) => Number(b.attributes['height']));
    expect(Math.max(...heights)).toBe(heights[1]);
    expect(heights[3]).toBe(0);
  });

  it('labels its axes with units and round ticks', () => {
    const root = parseXml(benchChartSvg(data));
    const labels = findAll(root, (e) => e.attributes['class'] === 'axis-label').map((e) => e.text);
    expect(labels).toEqual(['Mbit/s', 'time (s)', 'loss (%)', 'time (s)', 'over the least (ms)', 'time (s)', 'count', 'round-trip time (µs)']);
    // The histogram's bins widen (1, 2, 5, 10... µs): each in an equal slot, labelled with its range.
    const slots = findAll(root, (e) => e.attributes['class'] === 'slot-label').map((e) => e.text);
    expect(slots).toEqual(data.histogram.map((b) => `${b.fromUs}-${b.toUs}`));
    const throughput = findAll(root, (e) => e.attributes['data-panel'] === 'throughput')[0] as XmlElement;
    const yTicks = findAll(findAll(throughput, (e) => e.attributes['data-axis'] === 'y')[0] as XmlElement, (e) => e.name === 'text' && e.attributes['class'] === undefined);
    expect(yTicks.map((t) => t.text)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    const xTicks = findAll(findAll(throughput, (e) => e.attributes['data-axis'] === 'x')[0] as XmlElement, (e) => e.name === 'text' && e.attributes['class'] === undefined);
    expect(xTicks.map((t) => t.text)).toEqual(['0.0', '0.5', '1.0', '1.5', '2.0', '2.5']);
  });

  it('escapes the title, and replaces characters XML cannot carry', () => {
    const title = `</title><script>alert(1)</script> & "q" 'a' \u0000\u001b \ud800 ok`;
    const svg = benchChartSvg({ ...data, title });
    expect(svg).not.toContain('<script');
    const root = parseXml(svg);
    const expected = `</title><script>alert(1)</script> & "q" 'a' \ufffd\ufffd \ufffd ok`;
    expect(root.children[0]).toMatchObject({ name: 'title', text: expected });
    expect(findAll(root, (e) => e.attributes['class'] === 'chart-title')[0]?.text).toBe(expected);
  });

  it('says "not measured" for an empty histogram and a run without delay, and keeps their series', () => {
    const root = parseXml(benchChartSvg({ title: 't', intervals: data.intervals.map(({ delayMs: _, ...i }) => i), histogram: [] }));
    expect(series(root).map((e) => e.attributes['data-series'])).toEqual(QUANTITIES);
    expect(one(root, 'histogram').attributes['data-bars']).toBe('0');
    expect(one(root, 'histogram').children).toHaveLength(0);
    expect(one(root, 'delay').children).toHaveLength(0);
    const notes = findAll(root, (e) => e.attributes['class'] === 'note');
    expect(notes.map((n) => n.text)).toEqual(['not measured', 'not measured']);
  });

  it('draws a run of one interval as one flat step', () => {
    const root = parseXml(benchChartSvg({ title: 't', intervals: [{ startS: 0, endS: 1, mbps: 2, lossPercent: 0.5, delayMs: 3 }], histogram: [{ fromUs: 10, toUs: 20, count: 1 }] }));
    for (const id of ['throughput', 'loss', 'delay']) {
      const d = findAll(one(root, id), (e) => e.name === 'path')[0]?.attributes['d'];
      expect(d).toMatch(/^M64 ([\d.]+)L784 \1$/);
    }
    expect(findAll(one(root, 'histogram'), (e) => e.name === 'rect')).toHaveLength(1);
  });

  it('breaks the line where a value is missing or not finite', () => {
    const intervals = [0, 1, 2, 3].map((k) => ({ startS: k, endS: k + 1, mbps: k === 2 ? NaN : 1, lossPercent: 0 }));
    const d = findAll(one(parseXml(benchChartSvg({ title: 't', intervals, histogram: [] })), 'throughput'), (e) => e.name === 'path')[0]?.attributes['d'];
    expect(d?.match(/M/g)).toHaveLength(2);
  });

  it('gives the same bytes for the same data', () => {
    expect(benchChartSvg(data)).toBe(benchChartSvg(structuredClone(data)));
    expect(benchChartHtml(data)).toBe(benchChartHtml(structuredClone(data)));
  });
});

describe('benchChartHtml', () => {
  const html = benchChartHtml({ ...data, title: 'a <b> & c' });

  it('is standalone: no script, no external source, and a policy that loads nothing', () => {
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|url\(|@import/i);
    // The only address is the SVG namespace's name, which is never fetched.
    expect(html.match(/https?:\/\/[^"\s]*/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
  });

  it('holds the same chart, one series per quantity, and the title escaped', () => {
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + '</svg>'.length);
    expect(svg).toBe(benchChartSvg({ ...data, title: 'a <b> & c' }).split('\n')[1]);
    expect(series(parseXml(svg)).map((e) => e.attributes['data-series'])).toEqual(QUANTITIES);
    expect(html).toContain('<title>a &lt;b&gt; &amp; c</title>');
    expect(html).toContain('<h1>a &lt;b&gt; &amp; c</h1>');
    expect(html.match(/<tr><td>/g)).toHaveLength(data.intervals.length);
    expect(html).toContain('<tr><td>2.00</td><td>2.50</td><td>5.010</td><td>0.000</td><td>n/a</td></tr>');
  });
});
