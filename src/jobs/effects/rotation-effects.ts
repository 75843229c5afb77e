import { generateKeyPair } from '../../dfns/index.js';
import type { DfnsPort } from '../../dfns/port.js';
import { addPending, discardPending, promotePending, versionById, versionWithStage } from '../../secrets/stages.js';
import type { ManagedSecret } from '../../secrets/types.js';
import { beginCreate, create, reconcile } from './create-effects.js';
import { currentOf, failure, operatorPort as operator, pendingOf, rekeyCredId, removeCreated, type EffectDeps } from './effect-context.js';
import { jobIds } from '../queues/ids.js';
import { toJobOutcome } from '../core/job-outcome.js';
import { RETIRE_JOB_OPTIONS } from '../queues/job-options.js';
import { RotationPlanError } from './rotation-plan.js';
import type { RotationEffect, RotationEvent, RotationRecord } from '../core/rotation-types.js';
import { updateSecret } from './secret-writes.js';
import { rotationCredential } from '../core/rotation-notices.js';
import { runRetireEffect } from './retire-effects.js';

/**
 * Runs one rotation effect through the ports and says what happened, as an event for the
 * machine. Permanent Dfns refusals become events (the machine decides: fail or roll back);
 * transient failures are thrown, so BullMQ retries the job and the next run resumes from the
 * last saved step. The create side lives in create-effects.ts, the retirement's (deactivate and
 * archive the old credential) in retire-effects.ts.
 */

async function stage(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  const now = deps.clock.now();
  let staged: number | null = null;
  const keys = await (deps.keys ? deps.keys.take(deps.policy.keyAlgorithm) : generateKeyPair(deps.policy.keyAlgorithm));
  await updateSecret(
    deps.store,
    r.secretName,
    (record) => {
      if (!record) throw new RotationPlanError(`secret "${r.secretName}" disappeared`);
      const pending = versionWithStage(record.versions, 'pending');
      if (pending?.metadata.rotationId === r.rotationId) {
        staged = pending.versionId; // staged before a crash: reuse it
        return null;
      }
      let versions = record.versions;
      if (pending) {
        if (pending.value.accessToken && pending.value.credentialId && pending.value.accessToken !== versionWithStage(versions, 'current')?.value.accessToken) {
          throw new RotationPlanError(`secret "${r.secretName}" has a pending version from rotation ${pending.metadata.rotationId ?? 'unknown'} that holds a created credential (${pending.value.credentialId}); resolve it by hand (promote or retire it) before rotating again`);
        }
        versions = discardPending(record, pending.versionId); // staged by a rotation that never created anything
      }
      const current = versionWithStage(versions, 'current');
      if (!current) throw new RotationPlanError(`secret "${r.secretName}" has no current version`);
      const base: ManagedSecret =
        r.strategy === 'rekey'
          ? { ...current.value, credId: rekeyCredId(r.rotationId) }
          : { ...current.value, credentialId: null, accessToken: null, credId: '', expiresAt: null };
      const value: ManagedSecret = { ...base, privateKeyPem: keys.privateKeyPem, publicKeyPem: keys.publicKeyPem, algorithm: keys.algorithm };
      const added = addPending({ ...record, versions }, r.secretName, value, {
        createdAt: now,
        rotationId: r.rotationId,
        ...(r.strategy === 'rekey' ? { credentialId: current.value.credentialId, credId: value.credId, expiresAt: current.metadata.expiresAt ?? null } : {}),
      });
      staged = added.versionId;
      return added.versions;
    },
    { sleep: deps.sleep },
  );
  return { type: 'staged', pendingVersionId: staged! };
}

async function verify(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  // Read back from the store: what is verified is what consumers will get.
  const pending = await pendingOf(deps, r);
  const v = pending.value;
  if (!v.accessToken || !v.credentialId || v.credentialId !== r.created?.credentialId) {
    return failure(r, new RotationPlanError(`the pending version does not hold the created credential ${r.created?.credentialId ?? '(none)'}`), 'store read-back: ');
  }
  try {
    const port = deps.identities.asSecret(v, `new ${r.secretName}`);
    await port.listPersonalAccessTokens(); // the token is accepted (a read every identity may do)
    await port.proveSigning(); // the key signs a user action Dfns accepts
    if (r.strategy === 'replace') {
      // The create answer is Dfns' own record of what it created: read the record again only when
      // that answer did not list the permissions (or was lost, and the create found in the store).
      const assigned = r.created?.permissionIds ?? (await readPermissions(await operator(deps), r.kind, v.credentialId));
      if (assigned === null) {
        return failure(r, new RotationPlanError(`Dfns' answer for the replacement ${v.credentialId} does not list its permissions, so it cannot be proven to have [${r.old.permissionIds.join(', ')}]`), 'verify: ');
      }
      const got = [...assigned].sort();
      const want = [...r.old.permissionIds].sort();
      // A PAT without an explicit permission inherits its owner's; only compare what was set.
      const comparable = r.kind === 'service-account' || want.length > 0;
      if (comparable && JSON.stringify(got) !== JSON.stringify(want)) {
        return failure(r, new RotationPlanError(`the replacement has permissions [${got.join(', ')}] but the old credential had [${want.join(', ')}]`), 'verify: ');
      }
    }
  } catch (err) {
    if (toJobOutcome(err) === 'roll-back') return failure(r, err, 'verify: the new credential does not work: ');
    throw err;
  }
  return { type: 'verified' };
}

/** Null when Dfns' answer does not list them. */
async function readPermissions(op: DfnsPort, kind: RotationRecord['kind'], id: string): Promise<string[] | null> {
  const record = kind === 'service-account' ? await op.getServiceAccount(id) : await op.getPersonalAccessToken(id);
  return record.permissionAssignments?.map((p) => p.permissionId) ?? null;
}

async function promote(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  const at = deps.clock.now();
  await updateSecret(deps.store, r.secretName, (record) => {
    const target = versionById(record!.versions, r.pendingVersionId!);
    if (target?.stages.includes('current')) return null; // promoted before a crash
    return promotePending(record!, r.pendingVersionId!, at);
  }, { sleep: deps.sleep });
  return { type: 'promoted', at };
}

/** When the old credential is retired: the overlap after promotion. */
function retireAtOf(deps: EffectDeps, r: RotationRecord): number {
  return (r.promotedAt ?? deps.clock.now()) + deps.config.rotation.overlapHours * 3_600_000;
}

async function announce(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  const retireAt = retireAtOf(deps, r);
  await deps.notify.enqueue(
    { type: 'rotation-succeeded', rotationId: r.rotationId, credential: rotationCredential(r, deps.policy), newCredentialId: r.created!.credentialId, newExpiresAt: r.created!.expiresAt, retireAt, reason: r.reason },
    `rotation-succeeded:${r.rotationId}`,
  );
  return { type: 'announced' };
}

async function scheduleRetire(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  const retireAt = retireAtOf(deps, r);
  await deps.retireQueue.add('retire', { rotationId: r.rotationId, phase: 'deactivate' }, {
    jobId: jobIds.retire(r.rotationId, 'deactivate'),
    delay: Math.max(0, retireAt - deps.clock.now()),
    ...RETIRE_JOB_OPTIONS,
  });
  return { type: 'retire-scheduled', retireAt };
}

async function rollback(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  if (r.created && r.strategy === 'replace') await removeCreated(deps, r.kind, r.created.credentialId);
  if (r.created && r.strategy === 'rekey') {
    const current = await currentOf(deps, r);
    const port = deps.identities.asSecret(current.value, `rekey ${r.secretName}`);
    const cred = (await port.listCredentials()).find((c) => c.credentialId === r.created!.credId);
    if (cred?.isActive) await port.deactivateCredential(cred.credentialUuid);
  }
  for (const orphan of r.orphans.filter((o) => !o.cleaned)) await removeCreated(deps, r.kind, orphan.credentialId);
  if (r.pendingVersionId !== null) {
    await updateSecret(deps.store, r.secretName, (record) => (record && versionById(record.versions, r.pendingVersionId!) ? discardPending(record, r.pendingVersionId!) : null), { sleep: deps.sleep });
  }
  return { type: 'rolled-back' };
}

export async function runEffect(deps: EffectDeps, r: RotationRecord, effect: RotationEffect): Promise<RotationEvent | null> {
  switch (effect.type) {
    case 'stage':
      return stage(deps, r);
    case 'begin-create':
      return beginCreate(deps, r, effect.attempt);
    case 'create':
      return create(deps, r, effect);
    case 'reconcile':
      return reconcile(deps, r, effect);
    case 'clean-orphan':
      await removeCreated(deps, r.kind, effect.credentialId);
      return { type: 'orphan-cleaned', credentialId: effect.credentialId };
    case 'verify':
      return verify(deps, r);
    case 'promote':
      return promote(deps, r);
    case 'announce':
      return announce(deps, r);
    case 'schedule-retire':
      return scheduleRetire(deps, r);
    case 'rollback':
      return rollback(deps, r);
    case 'deactivate-old':
    case 'archive-old':
      return runRetireEffect(deps, r, effect);
    case 'wait':
    case 'held':
    case 'finished':
      return null;
  }
}


export { removeCreated, ignoreGone, operatorPort, currentOf, rekeyCredId, type EffectDeps } from './effect-context.js';
