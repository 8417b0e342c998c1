/**
 * `udpkit bench --plot FILE`: the chart of a real loopback run, checked against the same run's
 * JSON report: one point per interval in each series, one bar per histogram bin; HTML holds the
 * same chart; a name that cannot be drawn is a usage error before the test; an unwritable file
 * one line and exit 1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { findAll, parseXml, type XmlElement } from '../helpers/xml-check.js';

const dir = mkdtempSync(join(tmpdir(), 'udpkit-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const series = (root: XmlElement): Record<string, Readonly<Record<string, string>>> =>
  Object.fromEntries(findAll(root, (e) => e.name === 'g' && e.attributes['class'] === 'series').map((e) => [e.attributes['data-series'], e.attributes]));

interface Report {
  sent: number;
  received: number;
  intervals: { startS: number; endS: number; sent: number; received: number }[];
  rtt: { echoes: number; histogram: { count: number }[] };
}

describe('udpkit bench --plot', () => {
  it('draws every interval of the run and the --rtt histogram (SVG), and the same chart as HTML', async () => {
    const svgFile = join(dir, 'run.svg');
    const r = await runCli(['bench', '--loopback', '-t', '1', '--rate', '2000', '-i', '0.25', '--rtt', '--json-stream', '--plot', svgFile]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
    const report = lines.at(-1) as unknown as Report & { type: string };
    expect(report.type).toBe('report');
    expect(lines.filter((l) => l.type === 'interval').length).toBe(report.intervals.length);
    expect(report.intervals.length).toBeGreaterThanOrEqual(3);
    expect(report.intervals.reduce((a, i) => a + i.sent, 0)).toBe(report.sent);
    const svg = readFileSync(svgFile, 'utf8');
    const found = series(parseXml(svg));
    expect(Object.keys(found)).toEqual(['throughput', 'loss', 'delay', 'histogram']);
    expect(found['throughput']!['data-points']).toBe(String(report.intervals.length));
    expect(found['loss']!['data-points']).toBe(String(report.intervals.length));
    expect(found['histogram']!['data-bars']).toBe(String(report.rtt.histogram.length));
    expect(report.rtt.histogram.reduce((a, b) => a + b.count, 0)).toBe(report.rtt.echoes);

    const htmlFile = join(dir, 'run.html');
    const h = await runCli(['bench', '--loopback', '-t', '0.5', '--rate', '1000', '--plot', htmlFile]);
    expect(h.code, h.stderr).toBe(0);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const svgPart = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + '</svg>'.length);
    const inHtml = series(parseXml(svgPart));
    // Without -i the intervals are a second long: a half-second run is one interval; no --rtt, no bars.
    expect(inHtml['throughput']!['data-points']).toBe('1');
    expect(inHtml['histogram']!['data-bars']).toBe('0');
  });

  it('refuses a file it cannot draw before testing (exit 2), and says which file it could not write (exit 1)', async () => {
    const png = await runCli(['bench', '--loopback', '--plot', join(dir, 'x.png')]);
    expect(png.code).toBe(2);
    expect(png.stdout).toBe('');
    expect(png.stderr.split('\n')[0]).toBe(`udpkit: --plot ${join(dir, 'x.png')}: the file must end in .svg or .html (that is what is written)`);
    const missing = join(dir, 'no-such-dir', 'x.svg');
    const w = await runCli(['bench', '--loopback', '-t', '0.3', '--rate', '1000', '--plot', missing]);
    expect(w.code).toBe(1);
    expect(w.stderr).toBe(`udpkit: cannot write --plot ${JSON.stringify(missing)}: no such file or directory\n`);
    const server = await runCli(['bench', '--server', '--plot', join(dir, 'y.svg')]);
    expect(server.code).toBe(2);
    expect(server.stderr.split('\n')[0]).toBe("udpkit: --plot is for a client (it draws the client's report)");
  });
});
