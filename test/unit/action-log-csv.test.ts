import { describe, expect, it } from 'vitest';
import { parseActionLogCsv } from '../../src/dfns/action-log-csv.js';

/** Dfns' audit log CSV, as its documentation shows it (docs.dfns.co list-audit-logs example). */
const DOCUMENTED =
  'Date Performed,Audit Log ID,User ID,Username,Primary Credential ID,Action Path,Summary\n' +
  '2025-10-09T13:23:05.134Z,uj-4vs1l-5012b-9589s12d57t26u8,us-4ovh4-6a0h8-81d2df5e2u8l6djt,my-user@my-company.com,cr-7bfqk-89uag-8nle1s2d3f8e6dvd1mk,/wallets/wa-3l6ap-r4cbt-8js1e2f3s8u5242c8,Update wallet wa-3l6ap-r4cbt-8j09mhse1f3s5e242c8.';

describe('parseActionLogCsv', () => {
  it('reads the documented example', () => {
    expect(parseActionLogCsv('op', DOCUMENTED)).toEqual([{
      datePerformed: Date.parse('2025-10-09T13:23:05.134Z'),
      id: 'uj-4vs1l-5012b-9589s12d57t26u8',
      userId: 'us-4ovh4-6a0h8-81d2df5e2u8l6djt',
      username: 'my-user@my-company.com',
      credentialId: 'cr-7bfqk-89uag-8nle1s2d3f8e6dvd1mk',
      actionPath: '/wallets/wa-3l6ap-r4cbt-8js1e2f3s8u5242c8',
      summary: 'Update wallet wa-3l6ap-r4cbt-8j09mhse1f3s5e242c8.',
    }]);
  });

  it('finds columns by name, reads quoted fields, skips the TRUNCATED trailer and blank lines', () => {
    const csv = 'Summary,User ID,Date Performed,Primary Credential ID,Extra\r\n"Said ""hi"", then\nleft",us-1,2026-01-01T00:00:00Z,cr-1,x\r\n\r\n# TRUNCATED: narrow the range\n';
    expect(parseActionLogCsv('op', csv)).toEqual([{ datePerformed: Date.parse('2026-01-01T00:00:00Z'), userId: 'us-1', credentialId: 'cr-1', id: '', username: '', actionPath: '', summary: 'Said "hi", then\nleft' }]);
    expect(parseActionLogCsv('op', '')).toEqual([]);
    expect(parseActionLogCsv('op', 'Date Performed,User ID,Primary Credential ID\n')).toEqual([]);
  });

  it('fails the answer, naming what is wrong and not the content', () => {
    expect(() => parseActionLogCsv('listActionLogs', 'When,Who\n1,2')).toThrow(/no "Date Performed", "User ID", "Primary Credential ID" column/);
    const err = (() => { try { parseActionLogCsv('listActionLogs', 'Date Performed,User ID,Primary Credential ID\nsoon,us-secretish,cr-1'); } catch (e) { return e as Error & { code: string }; } return null; })();
    expect(err).toMatchObject({ code: 'DFNS_INVALID_ANSWER', message: expect.stringContaining('row 1: "Date Performed" is not a date') });
    expect(err!.message).not.toContain('us-secretish');
  });
});
