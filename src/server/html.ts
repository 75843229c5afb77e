/**
 * Server-rendered HTML for the pages this server owns (login, inventory). Every value that
 * comes from data goes through `escapeHtml`; the pages carry their CSS inline and load nothing
 * from elsewhere (the machines this runs on often have no internet, and the CSP forbids it).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface NavLink {
  href: string;
  text: string;
  current?: boolean;
}

export interface PageParts {
  title: string;
  /** Already-escaped HTML. */
  body: string;
  nav?: NavLink[];
}

const CSS = `
:root{--bg:#f5f6f8;--card:#fff;--text:#1d2430;--muted:#5f6b7a;--line:#e2e6eb;--accent:#2957c4;
--ok:#1f7a4d;--ok-bg:#e3f4ea;--warn:#8a5a00;--warn-bg:#fff2cc;--rotate:#a64b00;--rotate-bg:#ffe4cc;
--expired:#b3261e;--expired-bg:#fde2e0;--unknown:#5b4a8a;--unknown-bg:#ece8f7;--inactive:#5f6b7a;--inactive-bg:#eceef1}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#151a21;color:#e8ecf1;padding:0 24px;display:flex;align-items:center;gap:24px;height:52px}
header .brand{font-weight:600;letter-spacing:.02em}
header nav{display:flex;gap:4px;flex:1}
header nav a{color:#b9c3cf;text-decoration:none;padding:6px 10px;border-radius:6px}
header nav a:hover{background:#232a35;color:#fff}
header nav a[aria-current=page]{background:#2b3442;color:#fff}
main{padding:24px;max-width:1500px;margin:0 auto}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:16px;margin:28px 0 10px}
.muted{color:var(--muted)}
.small{font-size:12px}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px}
.counts{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.count{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 16px;min-width:110px}
.count .n{font-size:24px;font-weight:600}
.count.expired .n{color:var(--expired)}.count.rotate .n{color:var(--rotate)}.count.warn .n{color:var(--warn)}
.count.unknown .n{color:var(--unknown)}.count.ok .n{color:var(--ok)}.count.inactive .n{color:var(--inactive)}
.alert{border-radius:10px;padding:12px 16px;margin:12px 0;border:1px solid}
.alert.error{background:var(--expired-bg);border-color:#f3b8b3;color:#6b1510}
.alert.info{background:#e8effc;border-color:#c3d3f3}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:9px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#fafbfc;font-weight:600;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
tr:last-child td{border-bottom:0}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.ok{background:var(--ok-bg);color:var(--ok)}.badge.warn{background:var(--warn-bg);color:var(--warn)}
.badge.rotate{background:var(--rotate-bg);color:var(--rotate)}.badge.expired{background:var(--expired-bg);color:var(--expired)}
.badge.unknown{background:var(--unknown-bg);color:var(--unknown)}.badge.inactive{background:var(--inactive-bg);color:var(--inactive)}
.badge.own{background:#e8effc;color:var(--accent)}.badge.error{background:var(--expired);color:#fff}.count.error .n{color:var(--expired)}
.tag{display:inline-block;border:1px solid var(--line);border-radius:4px;padding:0 5px;font-size:11px;color:var(--muted)}
.tag.estimate{border-color:#e3c77a;color:var(--warn);background:#fffaeb}
a{color:var(--accent)}
form.login{max-width:380px;margin:64px auto}
form.login label{display:block;font-weight:600;margin:12px 0 4px}
form.login input{width:100%;padding:8px 10px;border:1px solid #c9d0d8;border-radius:6px;font:inherit}
form.login button{margin-top:16px;width:100%;padding:9px;border:0;border-radius:6px;background:var(--accent);color:#fff;font:inherit;font-weight:600;cursor:pointer}
`;

export function renderPage(parts: PageParts): string {
  const nav = (parts.nav ?? [])
    .map((l) => `<a href="${escapeHtml(l.href)}"${l.current ? ' aria-current="page"' : ''}>${escapeHtml(l.text)}</a>`)
    .join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(parts.title)} · dfns-rotator</title>
<style>${CSS}</style>
</head>
<body>
<header><span class="brand">dfns-rotator</span><nav>${nav}</nav></header>
<main>
${parts.body}
</main>
</body>
</html>
`;
}

/** The links every authenticated page of ours carries. */
export function mainNav(current: 'inventory' | 'dashboard' | null): NavLink[] {
  return [
    { href: '/inventory', text: 'Inventory', current: current === 'inventory' },
    { href: '/dashboard', text: 'Queues', current: current === 'dashboard' },
    { href: '/logout', text: 'Log out' },
  ];
}
