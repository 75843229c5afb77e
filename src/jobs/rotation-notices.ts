import type { CredentialPolicy } from '../config/policy.js';
import { credentialKey } from '../model.js';
import type { CredentialSummary, Notification } from '../notify/types.js';
import type { RotationRecord } from './rotation-types.js';
import { cliCommand } from '../cli-name.js';

/** How a rotation names its credential on Slack: the old one, which is what people know. */
export function rotationCredential(r: RotationRecord, policy?: Pick<CredentialPolicy, 'strategy'>): CredentialSummary {
  return {
    key: credentialKey(r.kind, r.old.credentialId),
    kind: r.kind,
    id: r.old.credentialId,
    name: r.old.name,
    expiresAt: null,
    expirySource: 'token',
    strategy: policy?.strategy ?? r.strategy,
    managed: true,
  };
}

export function rotationFailedNotice(r: RotationRecord, detail: { stuck?: boolean } = {}): Extract<Notification, { type: 'rotation-failed' }> {
  const rolledBack = r.step === 'rolled-back';
  return {
    type: 'rotation-failed',
    rotationId: r.rotationId,
    credential: rotationCredential(r),
    step: r.error?.step ?? r.step,
    error: r.error?.message ?? 'unknown error',
    impact: detail.stuck
      ? `the rotation is stuck at step ${r.step}; the current credential is untouched and keeps working; the next trigger resumes it`
      : rolledBack
        ? 'the new credential was removed; the current credential is untouched and keeps working'
        : 'nothing was changed; the current credential is untouched and keeps working',
    action: detail.stuck
      ? `check Dfns and the worker logs, then re-trigger: ${cliCommand('rotate', r.secretName, '--reason', 'retry after failure')}`
      : `fix the cause, then rotate by hand: ${cliCommand('rotate', r.secretName, '--reason', 'retry after fixing the cause')} (automatic retries resume after a cooldown)`,
  };
}

export function rotationParkedNotice(r: RotationRecord): Extract<Notification, { type: 'rotation-parked' }> {
  return {
    type: 'rotation-parked',
    rotationId: r.rotationId,
    credential: rotationCredential(r),
    step: 'create',
    ...(r.approvalId ? { approvalId: r.approvalId } : {}),
    action: `a Dfns policy holds the create for approval; once approved or denied, resume with: ${cliCommand('rotate', r.secretName, '--resume', '--reason', 'approved')}`,
  };
}
