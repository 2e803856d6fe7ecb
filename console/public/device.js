import { drawCharts } from './charts.js';
import { ago, badge, getJson, h, refreshEvery, replaceMain, when } from './common.js';

// A device's page: what it runs, its deployment history, and its readings over time.
const id = document.body.dataset.device;
const RANGES = [
  ['24 h', 86_400_000],
  ['7 d', 7 * 86_400_000],
  ['30 d', 30 * 86_400_000],
  ['all', 0],
];
let range = 0;
let charts;

function facts(d) {
  const rows = [
    ['Version', d.version ?? '?'],
    ['Channel', d.channel],
    ['Groups', d.groups.join(', ') || '—'],
    ['Health', badge(d.health)],
    ['Last seen', `${ago(d.lastSeen)} (${when(d.lastSeen)})`],
    ['Pinned', d.pinned ?? 'no'],
    ['Newest release', d.newest ?? '—'],
    ['Not on newest', d.behind ?? '—'],
  ];
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

function history(deployments) {
  if (!deployments.length) return h('p', { class: 'muted' }, 'No deployments reported.');
  const head = ['#', 'Kind', 'From', 'To', 'Outcome', 'Reason', 'Started', 'Finished'];
  return h(
    'table',
    { class: 'history cards' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      deployments.map((x) =>
        h(
          'tr',
          {},
          h('td', { 'data-label': '#' }, String(x.id)),
          h('td', { 'data-label': 'Kind' }, x.kind),
          h('td', { 'data-label': 'From' }, x.from ?? ''),
          h('td', { 'data-label': 'To' }, x.to),
          h(
            'td',
            { 'data-label': 'Outcome' },
            badge(x.outcome ?? 'in progress', x.outcome ?? 'updating'),
          ),
          h('td', { 'data-label': 'Reason' }, x.reason ?? ''),
          h('td', { 'data-label': 'Started' }, when(x.startedAt)),
          h('td', { 'data-label': 'Finished' }, when(x.finishedAt)),
        ),
      ),
    ),
  );
}

function rangeButtons() {
  return h(
    'div',
    { class: 'ranges', role: 'group', 'aria-label': 'Time range' },
    RANGES.map(([label, ms]) => {
      const b = h('button', { type: 'button', 'aria-pressed': String(ms === range) }, label);
      b.addEventListener('click', () => {
        range = ms;
        charts = undefined;
        render();
      });
      return b;
    }),
  );
}

async function render() {
  const q = range ? `?from=${Date.now() - range}` : '';
  const [info, readings] = await Promise.all([
    getJson(`/api/devices/${encodeURIComponent(id)}`),
    getJson(`/api/devices/${encodeURIComponent(id)}/readings${q}`),
  ]);
  if (!charts) {
    charts = h('div', { class: 'charts' });
    replaceMain(
      h('h1', {}, id),
      h('div', { id: 'facts' }),
      h('h2', {}, 'Readings'),
      rangeButtons(),
      charts,
      h('h2', {}, 'Deployments'),
      h('div', { id: 'history' }),
    );
  }
  document.getElementById('facts').replaceChildren(facts(info.device));
  document.getElementById('history').replaceChildren(history(info.deployments));
  drawCharts(charts, readings);
}

refreshEvery(render);
