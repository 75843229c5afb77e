import { describe, expect, it } from 'vitest';
import type { CredentialPolicy, PolicySubject } from '../../src/config/policy.js';
import { newRotation } from '../../src/jobs/core/rotation-machine.js';
import { policyOfRotation, rotationPolicy } from '../../src/jobs/core/rotation-policy.js';
import type { RotationRecord } from '../../src/jobs/core/rotation-types.js';

const configured: CredentialPolicy = {
  strategy: 'rekey', rekeyFallback: 'notify', maxKeyAgeDays: null, daysValid: null, keyAlgorithm: 'rsa-2048',
  assumedLifetimeDays: 365, warnDays: [30, 7], rotateBeforeDays: 14, ruleIndex: 0,
};

function record(policy?: RotationRecord['policy']): RotationRecord {
  const r = newRotation({
    rotationId: '01JROT', secretName: 'payments', kind: 'service-account', strategy: 'replace', reason: 'test', requestedBy: 'test',
    old: { credentialId: 'us-old', versionId: 1, credId: 'cr-old', name: 'payments-bot', permissionIds: [], daysValid: 90 },
    policy: policy ?? rotationPolicy(configured), now: 0,
  });
  if (!policy) delete r.policy; // a record written before the policy was carried
  return r;
}

describe('policyOfRotation', () => {
  it('keeps only what a rotation works to', () => {
    expect(rotationPolicy(configured)).toEqual({ strategy: 'rekey', rekeyFallback: 'notify', keyAlgorithm: 'rsa-2048' });
  });

  it('uses the policy on the record and does not resolve it again', () => {
    const asked: PolicySubject[] = [];
    const carried = { strategy: 'replace', rekeyFallback: 'replace', keyAlgorithm: 'ecdsa-p256' } as const;
    expect(policyOfRotation(record(carried), (s) => (asked.push(s), configured))).toEqual(carried);
    expect(asked).toEqual([]);
  });

  it('resolves it from the configuration for a record that has none, with the record\'s credential and secret', () => {
    const asked: PolicySubject[] = [];
    expect(policyOfRotation(record(), (s) => (asked.push(s), configured))).toEqual({ strategy: 'rekey', rekeyFallback: 'notify', keyAlgorithm: 'rsa-2048' });
    expect(asked).toEqual([{ kind: 'service-account', id: 'us-old', name: 'payments-bot', secretName: 'payments' }]);
  });
});
