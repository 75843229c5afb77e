import { describe, expect, it } from 'vitest';
import { DfnsForbiddenError, DfnsValidationError } from '../../src/dfns/errors.js';
import type { DfnsPort, ServiceAccountRecord } from '../../src/dfns/port.js';
import { deactivateIfActive } from '../../src/jobs/effects/effect-context.js';

/**
 * Deactivate is sent without reading the record first (a request per retirement saved). Whether
 * Dfns answers a second deactivate with 200 or a refusal is not documented: a refusal leads to one
 * read, and only a credential still active makes it an error.
 */
function port(options: { refuse?: Error; activeAfter: boolean }) {
  const calls: string[] = [];
  const sa = { id: 'us-1', isActive: options.activeAfter } as ServiceAccountRecord;
  const p = {
    deactivateServiceAccount: async () => {
      calls.push('deactivate');
      if (options.refuse) throw options.refuse;
      return sa;
    },
    getServiceAccount: async () => {
      calls.push('get');
      return sa;
    },
  } as unknown as DfnsPort;
  return { p, calls };
}

describe('deactivateIfActive', () => {
  const refusal = () => new DfnsValidationError('service account is already inactive', { operation: 'deactivateServiceAccount', status: 400 });

  it('sends only the deactivate when Dfns accepts it', async () => {
    const { p, calls } = port({ activeAfter: false });
    await deactivateIfActive(p, 'service-account', 'us-1');
    expect(calls).toEqual(['deactivate']);
  });

  it('takes a refusal for an already inactive credential as done, after one read', async () => {
    const { p, calls } = port({ refuse: refusal(), activeAfter: false });
    await deactivateIfActive(p, 'service-account', 'us-1');
    expect(calls).toEqual(['deactivate', 'get']);
  });

  it('rethrows a refusal when the credential is still active, and any other error at once', async () => {
    const still = port({ refuse: refusal(), activeAfter: true });
    await expect(deactivateIfActive(still.p, 'service-account', 'us-1')).rejects.toThrow('already inactive');
    const forbidden = port({ refuse: new DfnsForbiddenError('not authorized', { operation: 'deactivateServiceAccount', status: 403 }), activeAfter: true });
    await expect(deactivateIfActive(forbidden.p, 'service-account', 'us-1')).rejects.toThrow('not authorized');
    expect(forbidden.calls).toEqual(['deactivate']);
  });
});
