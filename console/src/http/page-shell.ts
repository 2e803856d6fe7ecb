/** The HTML around each page: a nav, an empty main the page's module fills, and its data. */
export type PageName = 'fleet' | 'releases' | 'device';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function pageShell(page: PageName, title: string, refreshMs: number, extra = ''): string {
  const current = (name: PageName) => (page === name ? ' aria-current="page"' : '');
  const uplot = page === 'device' ? '<link rel="stylesheet" href="/assets/uPlot.min.css">\n' : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)} · ota console</title>
${uplot}<link rel="stylesheet" href="/assets/console.css">
<script type="module" src="/assets/${page}.js"></script>
</head>
<body data-refresh-ms="${refreshMs}"${extra}>
<header>
<nav>
<strong>ota console</strong>
<a href="/"${current('fleet')}>Fleet</a>
<a href="/releases"${current('releases')}>Releases</a>
</nav>
<span id="updated" class="muted" aria-live="polite"></span>
</header>
<main id="main"><p class="muted">Loading…</p></main>
</body>
</html>
`;
}

export function deviceAttribute(id: string): string {
  return ` data-device="${escapeHtml(id)}"`;
}
