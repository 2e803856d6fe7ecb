import uPlot from '/assets/uPlot.esm.js';
import { h } from './common.js';

// The device's readings as uPlot charts: one chart per quantity, one series per app version,
// so the colour (and the legend) shows which version produced each reading, and a dashed line
// marks where the version changed: an update is visible in the data.
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

/** Where the version changes from one point to the next: [seconds, new version]. */
function switches(readings) {
  const out = [];
  for (let i = 1; i < readings.t.length; i++) {
    if (readings.version[i] !== readings.version[i - 1]) {
      out.push([readings.t[i] / 1000, readings.versions[readings.version[i]]]);
    }
  }
  return out;
}

/** A uPlot plugin (its hook API): a dashed line and the new version's name at each change. */
function versionMarks(marks) {
  const draw = (u) => {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = '#5b6576';
    ctx.fillStyle = '#1d2430';
    ctx.setLineDash([4, 4]);
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    for (const [x, version] of marks) {
      const px = Math.round(u.valToPos(x, 'x', true));
      if (px < bbox.left || px > bbox.left + bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(px, bbox.top);
      ctx.lineTo(px, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(`v${version}`, px + 4, bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  };
  return { hooks: { draw: [draw] } };
}

/** The width inside the chart's figure (its padding and border excluded). */
function chartWidth(plotDiv) {
  return Math.max(240, plotDiv.clientWidth);
}

function build(container, readings, marks) {
  for (const p of plots.splice(0)) p.destroy();
  container.replaceChildren();
  container.dataset.versions = readings.versions.join(',');
  container.dataset.switches = JSON.stringify(marks);
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
        'data-switches': marks.map(([, version]) => version).join(','),
      },
      h('figcaption', {}, `${title} (${unit})`),
      plot,
    );
    container.append(figure);
    const opts = {
      width: chartWidth(plot),
      height: 170,
      legend: { live: false },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 50 }],
      plugins: [versionMarks(marks)],
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

/** Draws the charts, or feeds new data to those drawn when versions and changes are the same. */
export function drawCharts(container, readings) {
  const marks = switches(readings);
  const same =
    plots.length > 0 &&
    container.dataset.versions === readings.versions.join(',') &&
    container.dataset.switches === JSON.stringify(marks);
  if (!same) return build(container, readings, marks);
  const x = readings.t.map((ms) => ms / 1000);
  METRICS.forEach(([metric], i) => {
    plots[i].setData([x, ...seriesFor(readings, metric)]);
    container.children[i].dataset.points = String(x.length);
  });
}

window.addEventListener('resize', () => {
  for (const p of plots) p.setSize({ width: chartWidth(p.root.parentElement), height: 170 });
});
