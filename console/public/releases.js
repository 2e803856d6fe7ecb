import { badge, getJson, h, refreshEvery, replaceMain, when } from './common.js';

// The releases page: per version, how far its rollout got against its policy, and how it went.

function policyText(p) {
  if (!p) return 'no rule recorded by an agent (all devices on its channel)';
  const parts = [`${p.percent}% of devices`];
  if (p.groups) parts.push(`in groups ${p.groups.join(', ')}`);
  if (p.withdrawn) parts.push('withdrawn');
  if (p.halt)
    parts.push(`halts at ${p.halt.failedPercent}% failed after ${p.halt.minDevices} devices`);
  return parts.join(', ');
}

function card(r, fleetSize) {
  const counts = [
    ['admitted', r.admitted],
    ['running', r.running],
    ['reached', r.reached],
    ['succeeded', r.succeeded],
    ['failed', r.failed],
    ['rolled back', r.rolledBack],
    ['updating', r.inProgress],
    ['waiting', r.waiting],
  ];
  const share = r.admitted ? Math.round((100 * r.reached) / r.admitted) : 0;
  return h(
    'section',
    { class: `release${r.halted ? ' halted' : ''}`, 'data-version': r.version },
    h(
      'h2',
      {},
      r.version,
      ' ',
      r.halted ? badge('halted') : null,
      r.policy?.withdrawn ? badge('withdrawn') : null,
    ),
    r.halted
      ? h('p', { class: 'alert' }, `Halted ${when(r.halted.at)}: ${r.halted.reason ?? ''}`)
      : null,
    h('p', { class: 'muted' }, `Policy: ${policyText(r.policy)}`),
    h(
      'div',
      { class: 'progress' },
      h('progress', { max: Math.max(r.admitted, 1), value: r.reached }),
      h(
        'span',
        { 'data-progress': r.reached },
        `${r.reached} of ${r.admitted} admitted devices run it or newer (${share}%); fleet ${fleetSize}`,
      ),
    ),
    h(
      'dl',
      { class: 'counts' },
      counts.map(([k, v]) => h('div', { 'data-count': k }, h('dt', {}, k), h('dd', {}, String(v)))),
    ),
    r.failureReasons.length
      ? h(
          'details',
          { open: true },
          h('summary', {}, 'Failure reasons'),
          h(
            'ul',
            {},
            r.failureReasons.map((f) => h('li', {}, h('b', {}, `${f.devices}×`), ` ${f.reason}`)),
          ),
        )
      : null,
  );
}

async function render() {
  const data = await getJson('/api/releases');
  const note = data.rolloutsRecorded
    ? null
    : h(
        'p',
        { class: 'muted' },
        'No agent has recorded rollout policies yet (ota_rollouts): outcomes only.',
      );
  replaceMain(h('h1', {}, 'Releases'), note, ...data.releases.map((r) => card(r, data.fleetSize)));
}

refreshEvery(render);
