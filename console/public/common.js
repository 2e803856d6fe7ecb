// Shared helpers for the console's pages: plain ES modules, no build step. Every value from
// the database reaches the page as text (textContent), never as HTML.

/** An element with attributes and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export async function getJson(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error ?? `HTTP ${response.status}`);
  }
  return response.json();
}

/** "3 min ago" from an ISO time. */
export function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

/**
 * Renders now, then again every data-refresh-ms: the page refreshes itself. A failed refresh
 * keeps what is shown and says so.
 */
export function refreshEvery(render) {
  const every = Number(document.body.dataset.refreshMs) || 10_000;
  const status = document.getElementById('updated');
  const tick = async () => {
    try {
      await render();
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      status.classList.remove('error');
    } catch (err) {
      status.textContent = `could not refresh: ${err.message}`;
      status.classList.add('error');
    }
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
    setTimeout(tick, every);
  };
  tick();
}

export function replaceMain(...children) {
  document.getElementById('main').replaceChildren(...children.filter((c) => c != null));
}

export function badge(text, kind = text) {
  return h('span', { class: `badge ${kind}` }, text);
}
