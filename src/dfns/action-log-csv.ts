import { DfnsInvalidAnswerError } from './errors.js';
import type { ActionLogEntry } from './port.js';

/**
 * Dfns' audit log answer (`GET /auth/action/logs`) is CSV, documented with the header
 * `Date Performed,Audit Log ID,User ID,Username,Primary Credential ID,Action Path,Summary` and, when
 * cut at its row cap, a trailing `# TRUNCATED …` line. Columns are found by name (their order or
 * new ones do not matter); a row that cannot be read fails the whole answer, naming the row, never
 * its content.
 */
const REQUIRED = { datePerformed: 'Date Performed', userId: 'User ID', credentialId: 'Primary Credential ID' } as const;
const OPTIONAL = { id: 'Audit Log ID', username: 'Username', actionPath: 'Action Path', summary: 'Summary' } as const;

export function parseActionLogCsv(operation: string, text: string): ActionLogEntry[] {
  const records = splitCsv(text).filter((r) => !(r.length === 1 && (r[0] === '' || r[0]!.startsWith('#'))));
  if (records.length === 0) return [];
  const header = records[0]!.map((h) => h.trim());
  const index = (name: string) => header.indexOf(name);
  const missing = Object.values(REQUIRED).filter((name) => index(name) < 0);
  if (missing.length > 0) throw new DfnsInvalidAnswerError(`audit log CSV has no ${missing.map((m) => `"${m}"`).join(', ')} column`, { operation });
  const at = (row: string[], name: string) => (index(name) >= 0 ? row[index(name)] ?? '' : '');
  return records.slice(1).map((row, i) => {
    const date = Date.parse(at(row, REQUIRED.datePerformed));
    if (Number.isNaN(date)) throw new DfnsInvalidAnswerError(`audit log CSV row ${i + 1}: "${REQUIRED.datePerformed}" is not a date`, { operation });
    return {
      datePerformed: date,
      userId: at(row, REQUIRED.userId),
      credentialId: at(row, REQUIRED.credentialId),
      id: at(row, OPTIONAL.id),
      username: at(row, OPTIONAL.username),
      actionPath: at(row, OPTIONAL.actionPath),
      summary: at(row, OPTIONAL.summary),
    };
  });
}

/** RFC 4180: fields may be quoted, with "" for a quote and line breaks inside quotes. */
function splitCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
