import uPlot from '/assets/uPlot.esm.js';
import { h } from './common.js';

// The device's readings as uPlot charts: one chart per quantity, one series per app version,
// so the colour (and the legend) shows which version produced each reading and an update is
// visible where the colour changes.
const METRICS = [
  ['temperature', 'Temperature', '°C'],
  ['humidity', 'Humidity', '%'],
  ['pressure', 'Pressure', 'hPa'],
  ['wind', 'Wind speed', 'm/s'],
  ['precipitation', 'Precipitation', 'mm'],
];
export const VERSION_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

const plots = [];

function seriesFor(readings, metric) {
  const values = readings[metric];
  return readings.versions.map((_, vi) =>
    values.map((v, i) => (readings.version[i] === vi ? v : null)),
  );
}

function chartWidth(container) {
  return Math.max(280, container.clientWidth - 8);
}

function build(container, readings) {
  for (const p of plots.splice(0)) p.destroy();
  container.replaceChildren();
  container.dataset.versions = readings.versions.join(',');
  if (!readings.t.length) {
    container.append(h('p', { class: 'muted' }, 'No readings in this range.'));
    return;
  }
  const x = readings.t.map((ms) => ms / 1000);
  for (const [metric, title, unit] of METRICS) {
    const plot = h('div', { class: 'plot' });
    const figure = h(
      'figure',
      {
        'data-metric': metric,
        'data-points': x.length,
        'data-versions': readings.versions.join(','),
      },
      h('figcaption', {}, `${title} (${unit})`),
      plot,
    );
    container.append(figure);
    const opts = {
      width: chartWidth(container),
      height: 170,
      legend: { live: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 50 }],
      series: [
        {},
        ...readings.versions.map((v, i) => ({
          label: `v${v}`,
          stroke: VERSION_COLOURS[i % VERSION_COLOURS.length],
          width: 1.5,
          points: { show: false },
        })),
      ],
    };
    plots.push(new uPlot(opts, [x, ...seriesFor(readings, metric)], plot));
  }
}

/** Draws the charts, or feeds new data to the ones drawn when the versions are the same. */
export function drawCharts(container, readings) {
  const same = container.dataset.versions === readings.versions.join(',') && plots.length > 0;
  if (!same) return build(container, readings);
  const x = readings.t.map((ms) => ms / 1000);
  METRICS.forEach(([metric], i) => {
    plots[i].setData([x, ...seriesFor(readings, metric)]);
    container.children[i].dataset.points = String(x.length);
  });
}

window.addEventListener('resize', () => {
  const container = document.querySelector('.charts');
  if (container) for (const p of plots) p.setSize({ width: chartWidth(container), height: 170 });
});
