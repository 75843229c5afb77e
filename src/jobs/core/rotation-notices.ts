import type { CredentialPolicy } from '../../config/policy.js';
import { credentialKey } from '../../model.js';
import type { CredentialSummary, Notification } from '../../notify/types.js';
import type { RotationRecord } from './rotation-types.js';
import { cliCommand } from '../../cli-name.js';

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
      ? `the rotation is stuck at step ${r.step}; the current credential is untouched and keeps working; the next scan (or a manual trigger) resumes it`
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

/** A credential holds the replacement's name and nothing proves it is ours: it is left alone. */
export function nameHolderNotice(r: RotationRecord, holder: { id: string; name: string; why: string }): Extract<Notification, { type: 'rotation-attention' }> {
  const noun = r.kind === 'service-account' ? 'service account' : 'PAT';
  return {
    type: 'rotation-attention',
    rotationId: r.rotationId,
    credential: rotationCredential(r),
    step: r.step,
    problem: `the ${noun} ${holder.id} is named ${holder.name}, like this rotation's replacement, and nothing proves it is ours (${holder.why}); it may be someone else's, or a create of this rotation whose answer was lost`,
    impact: `${holder.id} was not touched; the rotation goes on under the next name; the current credential keeps working`,
    action: `check ${holder.id} in the Dfns dashboard: if it is in use, leave it; if nobody uses it and it was made by the rotator (around the time of rotation ${r.rotationId}), deactivate and archive it by hand`,
  };
}

/** The new credential's token could not be written to the store (full, read-only): it is held in memory while the write is retried. */
export function storeUnwritableNotice(r: RotationRecord, errno: string, newCredentialId: string, holdMinutes: number): Extract<Notification, { type: 'rotation-attention' }> {
  return {
    type: 'rotation-attention',
    rotationId: r.rotationId,
    credential: rotationCredential(r),
    step: r.step,
    problem: `the secret store refused the write of the new credential ${newCredentialId} (${errno}: the disk is full, read-only or not writable by the rotator)`,
    impact: `the new token is held in this worker's memory only, and the write is retried for up to ${holdMinutes} minutes; nothing was retired; the current credential keeps working`,
    action: `free space or restore write access to the store now; if the worker stops first, the next attempt removes ${newCredentialId} and creates another`,
  };
}
