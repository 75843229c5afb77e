import type { ScanPage, StoredScan } from '../jobs/state/scan-results.js';
import type { RotationRecord } from '../jobs/core/rotation-types.js';
import type { CredentialState, DamagedSecret } from '../model.js';
import { escapeHtml as e, mainNav, renderPage } from './html.js';
import { formatDate, formatRelative, inventoryRows, type InventoryRow } from './inventory-view.js';

export interface InventoryPageInput {
  /** The last scan, or one page of it (most urgent first). */
  scan: ScanPage | StoredScan | null;
  /** Most recent first; undefined when the server has no rotation loader. */
  rotations?: readonly RotationRecord[];
  now: number;
  /** Set when the stored scan could not be read (e.g. Redis down). */
  loadError?: string;
}

const STATE_ORDER: readonly CredentialState[] = ['expired', 'rotate', 'warn', 'unknown', 'ok', 'inactive'];

const STATE_LABEL: Record<CredentialState, string> = {
  expired: 'expired',
  rotate: 'rotate',
  warn: 'warn',
  unknown: 'unknown',
  ok: 'ok',
  inactive: 'inactive',
};

/** The inventory as one server-rendered page: no script, no external asset, every value escaped. */
export function renderInventoryPage(input: InventoryPageInput): string {
  const parts: string[] = ['<h1>Credential inventory</h1>'];
  if (input.loadError) {
    parts.push(`<div class="alert error" role="alert">Could not read the last scan: ${e(input.loadError)}</div>`);
  } else if (!input.scan) {
    parts.push(emptyState());
  } else {
    parts.push(scanSection(input.scan, input.now));
    const nav = 'page' in input.scan ? pageNav(input.scan.page, input.scan.summary.total) : '';
    parts.push(nav);
    parts.push(credentialTable(inventoryRows(input.scan.items, input.rotations ?? [], input.now), input.scan.summary.damaged ?? []));
    parts.push(nav);
  }
  if (input.rotations) parts.push(rotationsSection(input.rotations, input.now));
  parts.push(
    `<p class="muted small" style="margin-top:24px">Dfns exposes no expiry field: an expiry is exact when read from a token the worker holds, and <span class="tag estimate">estimated</span> (creation date + the assumed lifetime from the configuration) otherwise. Times are UTC. Machine-readable: <a href="/api/inventory">/api/inventory</a>.</p>`,
  );
  return renderPage({ title: 'Inventory', nav: mainNav('inventory'), body: parts.join('\n') });
}

/** `Page 2 of 100 (credentials 501–1,000 of 50,000, most urgent first) · previous · next`. */
function pageNav(page: ScanPage['page'], total: number): string {
  if (page.count <= 1 && page.index === 0) return '';
  const first = page.index * page.size + 1;
  const last = Math.min(total, (page.index + 1) * page.size);
  const range = first <= last ? `credentials ${first.toLocaleString('en')}–${last.toLocaleString('en')} of ${total.toLocaleString('en')}, most urgent first` : `past the last page`;
  const prev = page.index > 0 ? `<a href="/inventory?page=${page.index}">previous</a>` : '';
  const next = page.index + 1 < page.count ? `<a href="/inventory?page=${page.index + 2}">next</a>` : '';
  const links = [prev, next].filter(Boolean).join(' · ');
  return `<p class="muted pages">Page ${e(page.index + 1)} of ${e(page.count)} (${e(range)})${links ? ` · ${links}` : ''}</p>`;
}

function emptyState(): string {
  return `<div class="card" style="margin-top:16px">
<h2 style="margin-top:0">No scan has finished yet</h2>
<p>The inventory appears here after the first scan. The schedule will run one; to run it now, add a scan job: open the <a href="/dashboard/queue/scan">scan queue</a>, choose <b>Add job</b>, job name <code class="mono">scan</code>, data <code class="mono">{"trigger":"manual"}</code>.</p>
</div>`;
}

function scanSection(scan: StoredScan, now: number): string {
  const s = scan.summary;
  const took = Math.max(0, Math.round((s.finishedAt - s.startedAt) / 100) / 10);
  const counts = STATE_ORDER.map(
    (state) => `<div class="count ${state}"><div class="n">${e(s.counts[state] ?? 0)}</div><div class="muted">${e(STATE_LABEL[state])}</div></div>`,
  ).join('');
  const errors =
    s.errors.length === 0
      ? ''
      : `<div class="alert error" role="alert"><b>Some identities could not list their credentials</b>; the inventory below may be incomplete.<ul>${s.errors
          .map((err) => `<li><b>${e(err.identity)}</b>: ${e(err.message)}</li>`)
          .join('')}</ul></div>`;
  const damaged = s.damaged?.length ?? 0;
  const damagedCount = damaged === 0 ? '' : `<div class="count error"><div class="n">${e(damaged)}</div><div class="muted">error</div></div>`;
  return `<p class="muted">Last scan finished ${e(formatDate(s.finishedAt))} (${e(formatRelative(s.finishedAt, now))}), took ${e(took)} s · scan <span class="mono">${e(s.scanId)}</span> · ${e(s.rotationsQueued)} rotation(s) and ${e(s.notificationsQueued)} notification(s) queued</p>
${errors}
<div class="counts"><div class="count"><div class="n">${e(s.total)}</div><div class="muted">total</div></div>${damagedCount}${counts}</div>`;
}

/** A secret the store could not read: first in the table, in state `error`, with its recovery step. */
function damagedRow(d: DamagedSecret): string {
  return `<tr data-state="error">
<td><b>${e(d.secretName)}</b><div class="muted small">secret <span class="mono">${e(d.secretName)}</span></div></td>
<td><span class="muted">store secret</span></td>
<td class="mono"><span class="muted">unreadable</span></td>
<td><span class="muted">—</span></td>
<td><span class="badge error">error</span><div class="muted small">${e(d.problem)}</div></td>
<td><span class="tag">unknown</span></td>
<td>not read: not rotated</td>
<td><span class="muted">—</span></td>
<td>${withCode(d.action)}</td>
</tr>`;
}

function credentialTable(rows: readonly InventoryRow[], damaged: readonly DamagedSecret[]): string {
  if (rows.length === 0 && damaged.length === 0) return '<div class="alert info">The last scan found no credentials.</div>';
  const body = [...damaged.map(damagedRow), ...rows

    .map(({ item, expiry, management, lastRotation, nextAction }) => {
      const own = item.isOwnIdentity ? ` <span class="badge own" title="the worker signs in with this credential">worker identity</span>` : '';
      const secret = item.secretName ? `<div class="muted small">secret <span class="mono">${e(item.secretName)}</span></div>` : '';
      const expiryCell = expiry.known
        ? `${e(expiry.date)}<div class="small ${expiry.past ? '' : 'muted'}">${e(expiry.relative)}${expiry.estimated ? ' <span class="tag estimate">estimated</span>' : ' <span class="tag">exact</span>'}</div>`
        : '<span class="tag">unknown</span>';
      return `<tr data-state="${e(item.state)}">
<td><b>${e(item.name)}</b>${own}${secret}</td>
<td>${item.kind === 'service-account' ? 'service account' : 'PAT'}</td>
<td class="mono">${e(item.id)}</td>
<td>${item.owner ? e(item.owner) : '<span class="muted">—</span>'}</td>
<td><span class="badge ${e(item.state)}">${e(STATE_LABEL[item.state] ?? item.state)}</span><div class="muted small">${e(item.reason)}</div></td>
<td>${expiryCell}</td>
<td>${e(management)}</td>
<td>${lastRotation ? e(lastRotation) : '<span class="muted">—</span>'}</td>
<td>${withCode(nextAction)}</td>
</tr>`;
    })]
    .join('\n');
  return `<table>
<thead><tr><th>Credential</th><th>Kind</th><th>Dfns id</th><th>Owner</th><th>State</th><th>Expires</th><th>Management</th><th>Last rotation</th><th>Next action</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

/** Escapes, then shows `backticked` commands (as the scan's action texts write them) as code. */
function withCode(text: string): string {
  return e(text).replace(/`([^`]+)`/g, '<code class="mono">$1</code>');
}

function rotationsSection(rotations: readonly RotationRecord[], now: number): string {
  if (rotations.length === 0) return '<h2>Recent rotations</h2><p class="muted">No rotation yet.</p>';
  const body = rotations
    .map(
      (r) => `<tr>
<td class="mono">${e(r.rotationId)}</td>
<td class="mono">${e(r.secretName)}</td>
<td>${r.kind === 'service-account' ? 'service account' : 'PAT'} · ${e(r.strategy)}</td>
<td>${e(r.step)}${r.error ? `<div class="small" style="color:var(--expired)">${e(r.error.code)}: ${e(r.error.message)}</div>` : ''}</td>
<td>${e(r.reason)}<div class="muted small">by ${e(r.requestedBy)}</div></td>
<td>${e(formatDate(r.updatedAt))}<div class="muted small">${e(formatRelative(r.updatedAt, now))}</div></td>
</tr>`,
    )
    .join('\n');
  return `<h2>Recent rotations</h2>
<table>
<thead><tr><th>Rotation</th><th>Secret</th><th>Kind</th><th>Step</th><th>Reason</th><th>Updated</th></tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}
