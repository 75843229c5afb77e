import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCurrent, addPending, dropVersion, promotePending, updatePending } from '../../src/secrets/stages.js';
import { makeManagedSecret } from '../fixtures/managed-secret.js';
import { startAwsStore, type RunningAwsStore } from '../helpers/aws-store-fixture.js';

// The README's IAM policies are the store's: every Secrets Manager action a whole life-cycle of
// the daemon's store calls is in the daemon policy and nothing more; the consumer policy reads only.

interface Policy {
  Statement: { Effect: string; Action: string | string[]; Resource: string }[];
}

function policy(marker: string): Policy {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const m = new RegExp(`<!-- iam-policy:${marker} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!m) throw new Error(`README has no <!-- iam-policy:${marker} --> JSON block`);
  return JSON.parse(m[1]!) as Policy;
}

const actions = (p: Policy, service: string) =>
  p.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).filter((a) => a.startsWith(`${service}:`)).map((a) => a.slice(service.length + 1)).sort();

let fx: RunningAwsStore;
beforeAll(async () => {
  fx = await startAwsStore();
});
afterAll(async () => {
  await fx.close();
});

describe('the README IAM policies', () => {
  it('grant the daemon exactly the Secrets Manager actions its store calls through a rotation', async () => {
    const store = fx.open();
    try {
      const name = 'payments/api';
      let rev = await store.put(name, addCurrent(null, name, makeManagedSecret({ accessToken: 't1' }), { createdAt: 1 }).versions, null);
      const staged = addPending((await store.get(name))!, name, makeManagedSecret({ accessToken: null, credentialId: null }), { createdAt: 2, rotationId: 'r1' });
      rev = await store.put(name, staged.versions, rev);
      rev = await store.put(name, updatePending((await store.get(name))!, staged.versionId, { value: { accessToken: 't2', credentialId: 'us-2' } }), rev);
      rev = await store.put(name, promotePending((await store.get(name))!, staged.versionId, 3), rev);
      await store.put(name, dropVersion((await store.get(name))!, 1), rev);
      expect((await store.list()).map((s) => s.name)).toEqual([name]);
    } finally {
      await store.close?.();
    }
    const used = Object.keys(fx.aws.stats.requests).sort();
    expect(actions(policy('daemon'), 'secretsmanager')).toEqual(used);
    expect(used).not.toContain('DeleteSecret');
  });

  it('let a consumer read, and nothing else', () => {
    expect(actions(policy('consumer'), 'secretsmanager')).toEqual(['DescribeSecret', 'GetSecretValue']);
    expect(actions(policy('consumer'), 'kms')).toEqual(['Decrypt']);
    expect(policy('consumer').Statement.every((s) => s.Resource !== '*')).toBe(true);
  });
});
