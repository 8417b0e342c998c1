/**
 * What the page's script gets as `window.udpkitCharts`: the chart renderers of src/format/,
 * bundled for the browser by scripts/bundle.mjs into dist/app/ui-charts.js and served by the UI
 * server at /ui-charts.js, so the page draws with the same code as `udpkit bench --plot`.
 */
export { benchChartSvg } from '../format/bench-chart.js';
export { rateChartSvg } from '../format/rate-chart.js';
