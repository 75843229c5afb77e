import type { CredentialPolicy, PolicySubject } from '../../config/policy.js';
import type { RotationPolicy, RotationRecord } from './rotation-types.js';

/**
 * The part of a credential's policy a rotation works to, as `planRotation` resolved it. The one
 * place that decides which policy a rotation's steps use.
 */
export function rotationPolicy(policy: CredentialPolicy): RotationPolicy {
  return { strategy: policy.strategy, rekeyFallback: policy.rekeyFallback, keyAlgorithm: policy.keyAlgorithm };
}

/**
 * The policy a rotation was planned with. A record written before the policy was carried on it
 * (an upgrade mid-rotation) has none: its policy is resolved from the configuration, once, for
 * the job that resumes it.
 */
export function policyOfRotation(r: RotationRecord, policyFor: (subject: PolicySubject) => CredentialPolicy): RotationPolicy {
  return r.policy ?? rotationPolicy(policyFor({ kind: r.kind, id: r.old.credentialId, name: r.old.name, secretName: r.secretName }));
}
