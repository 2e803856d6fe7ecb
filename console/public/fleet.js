import { ago, badge, getJson, h, refreshEvery, replaceMain } from './common.js';

// The fleet page: every device, its version and health, and why it is not on the newest.
let filter = '';

/** The app's last write; the agent's report when the app has never written. */
function lastSeen(d) {
  if (d.lastSeen || !d.agentSeen) return ago(d.lastSeen);
  return `${ago(d.agentSeen)} (agent)`;
}

function row(d) {
  const link = h('a', { href: `/devices/${encodeURIComponent(d.id)}` }, d.id);
  return h(
    'tr',
    { 'data-device': d.id, 'data-stale': d.stale, class: d.stale ? 'stale' : undefined },
    h(
      'td',
      { 'data-label': 'Device' },
      link,
      d.hostname && d.hostname !== d.id ? h('div', { class: 'muted' }, d.hostname) : null,
    ),
    h('td', { 'data-label': 'Version' }, d.version ?? '?'),
    h('td', { 'data-label': 'Channel' }, d.channel),
    h('td', { 'data-label': 'Groups' }, d.groups.join(', ')),
    h('td', { 'data-label': 'Health' }, badge(d.health)),
    h('td', { 'data-label': 'Last seen', title: d.lastSeen ?? d.agentSeen ?? '' }, lastSeen(d)),
    h('td', { 'data-label': 'Pinned' }, d.pinned ?? ''),
    h('td', { 'data-label': 'Not on newest', class: 'behind' }, d.behind ?? ''),
  );
}

function summary(data) {
  const count = (f) => data.devices.filter(f).length;
  const items = [
    ['devices', data.devices.length],
    ['online', count((d) => d.health === 'online')],
    ['stale', count((d) => d.stale)],
    ['behind', count((d) => d.behind)],
    ['pinned', count((d) => d.pinned)],
  ];
  return h(
    'ul',
    { class: 'summary' },
    items.map(([k, v]) => h('li', {}, h('b', {}, String(v)), ` ${k}`)),
  );
}

async function render() {
  const data = await getJson('/api/fleet');
  const search = h('input', {
    type: 'search',
    placeholder: 'Filter by device, version, group…',
    'aria-label': 'Filter devices',
    value: filter,
  });
  const body = h('tbody');
  const fill = () => {
    const words = filter.toLowerCase();
    const shown = data.devices.filter((d) =>
      [d.id, d.hostname, d.version, d.channel, d.groups.join(','), d.health, d.behind]
        .join(' ')
        .toLowerCase()
        .includes(words),
    );
    body.replaceChildren(...shown.map(row));
  };
  search.addEventListener('input', () => {
    filter = search.value;
    fill();
  });
  fill();
  const halted = data.halted.map((r) =>
    h(
      'p',
      { class: 'alert', 'data-halted': r.version },
      badge('halted'),
      ` ${r.version}: ${r.reason ?? 'halted'}`,
    ),
  );
  const headers = [
    'Device',
    'Version',
    'Channel',
    'Groups',
    'Health',
    'Last seen',
    'Pinned',
    'Not on newest',
  ];
  replaceMain(
    h('h1', {}, 'Fleet'),
    ...halted,
    summary(data),
    search,
    h(
      'table',
      { class: 'fleet cards' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((t) => h('th', {}, t)),
        ),
      ),
      body,
    ),
  );
  // Keep the filter box focused across refreshes while typing.
  if (filter) search.focus();
}

refreshEvery(render);
