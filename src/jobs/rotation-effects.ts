import type { Queue } from 'bullmq';
import type { Clock, Sleep } from '../clock.js';
import type { CredentialPolicy } from '../config/policy.js';
import type { Config } from '../config/types.js';
import { generateKeyPair, readTokenExpiry } from '../dfns/index.js';
import type { KeySource } from '../dfns/key-pool.js';
import type { DfnsPort } from '../dfns/port.js';
import { errorCode, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { addPending, discardPending, promotePending, updatePending, versionById, versionWithStage } from '../secrets/stages.js';
import type { ManagedSecret, SecretStore, SecretVersion } from '../secrets/types.js';
import { jobIds } from './ids.js';
import type { Identities } from './identities.js';
import type { NotifyEnqueuer } from './notify-job.js';
import { RotationPlanError } from './rotation-plan.js';
import type { RotationEffect, RotationEvent, RotationRecord } from './rotation-types.js';
import { updateSecret } from './secret-writes.js';
import { rotationCredential } from './rotation-notices.js';

/**
 * Runs one rotation effect through the ports and says what happened, as an event for the
 * machine. Permanent Dfns refusals become events (the machine decides: fail or roll back);
 * transient failures are thrown, so BullMQ retries the job and the next run resumes from the
 * last saved step.
 */
export interface EffectDeps {
  store: Pick<SecretStore, 'get' | 'put' | 'list'>;
  identities: Identities;
  retireQueue: Pick<Queue, 'add'>;
  notify: NotifyEnqueuer;
  config: Pick<Config, 'rotation' | 'dfns'>;
  policy: CredentialPolicy;
  clock: Clock;
  sleep: Sleep;
  logger: Logger;
  /** Fresh key pairs (generated ahead where that helps); default: generated on the spot. */
  keys?: KeySource;
  /** Test seam: called when Dfns has answered a create, before the token is stored. */
  afterCreateAnswered?: (record: RotationRecord) => Promise<void> | void;
}

/** Dfns refused for good (4xx): retrying the same request cannot help. */
export function isPermanentDfnsRefusal(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'DFNS_VALIDATION' || code === 'DFNS_FORBIDDEN' || code === 'DFNS_NOT_FOUND' || code === 'DFNS_UNAUTHORIZED' || code === 'DFNS_PAYMENT_REQUIRED' || code === 'DFNS_INVALID_ANSWER' || code === 'DFNS_CLIENT';
}

function failure(r: RotationRecord, err: unknown, prefix = ''): RotationEvent {
  return { type: 'permanent-failure', error: { code: errorCode(err) ?? 'ERROR', message: `${prefix}${describeError(err)}`, step: r.step } };
}

async function pendingOf(deps: EffectDeps, r: RotationRecord): Promise<SecretVersion> {
  const record = await deps.store.get(r.secretName);
  const pending = record && r.pendingVersionId !== null ? versionById(record.versions, r.pendingVersionId) : undefined;
  if (!pending || !pending.stages.includes('pending') || pending.metadata.rotationId !== r.rotationId) {
    throw new RotationPlanError(`rotation ${r.rotationId}: the pending version ${r.pendingVersionId} of "${r.secretName}" is gone; the store was changed by hand`);
  }
  return pending;
}

async function currentOf(deps: EffectDeps, r: RotationRecord): Promise<SecretVersion> {
  const record = await deps.store.get(r.secretName);
  const current = record && versionWithStage(record.versions, 'current');
  if (!current) throw new RotationPlanError(`secret "${r.secretName}" has no current version`);
  return current;
}

async function operator(deps: EffectDeps): Promise<DfnsPort> {
  const op = await deps.identities.operator();
  if (!op) throw new RotationPlanError('this step needs the operator identity, and none is configured');
  return op;
}

/** The Key credential id a rekey registers: chosen by us, so a lost answer is found by listing. */
export function rekeyCredId(rotationId: string): string {
  return `rk-${rotationId}`;
}

async function ignoreGone(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    // Already archived (a lost answer of an earlier attempt, or a person did it): the goal is reached.
    if (errorCode(err) !== 'DFNS_NOT_FOUND') throw err;
  }
}

/**
 * Deactivates a service account or PAT (a replacement or an orphan this rotation created, or
 * the replaced one at retirement). No read first: the deactivate answer tells whether it worked, and
 * Dfns (or the simulator) answers one already inactive either with 200 or with a refusal. Only on
 * a refusal is the record read, to tell "already inactive" (the goal, reached) from a real one.
 */
export async function deactivateIfActive(op: DfnsPort, kind: RotationRecord['kind'], id: string): Promise<void> {
  try {
    if (kind === 'service-account') await op.deactivateServiceAccount(id);
    else await op.deactivatePersonalAccessToken(id);
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'DFNS_VALIDATION' && code !== 'DFNS_CONFLICT') throw err;
    const record = kind === 'service-account' ? await op.getServiceAccount(id) : await op.getPersonalAccessToken(id);
    if (record.isActive) throw err;
  }
}

/** Deactivates then archives a credential the operator created (a replacement or an orphan). */
async function removeCreated(deps: EffectDeps, kind: RotationRecord['kind'], id: string): Promise<void> {
  const op = await operator(deps);
  await ignoreGone(() => deactivateIfActive(op, kind, id));
  await ignoreGone(() => (kind === 'service-account' ? op.archiveServiceAccount(id) : op.archivePersonalAccessToken(id)));
}

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

/** Writes what Dfns returned into the pending version at once: the token exists nowhere else. */
async function recordCreated(deps: EffectDeps, r: RotationRecord, created: { credentialId: string; credId: string; name: string; accessToken: string | null; permissionIds?: string[] | undefined }): Promise<RotationEvent> {
  const expiry = created.accessToken ? readTokenExpiry(created.accessToken) : null;
  const expiresAt = expiry?.kind === 'expires' ? expiry.expiresAt : null;
  await updateSecret(
    deps.store,
    r.secretName,
    (record) =>
      updatePending(record!, r.pendingVersionId!, {
        value: {
          credentialId: created.credentialId,
          credId: created.credId,
          name: created.name,
          ...(created.accessToken ? { accessToken: created.accessToken, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString() } : {}),
        },
        metadata: { credentialId: created.credentialId, credId: created.credId, ...(created.accessToken ? { expiresAt } : {}) },
      }),
    { sleep: deps.sleep, attempts: 8 },
  );
  const stored = await pendingOf(deps, r);
  return { type: 'created', credentialId: created.credentialId, credId: created.credId, name: created.name, expiresAt: stored.metadata.expiresAt ?? null, ...(created.permissionIds ? { permissionIds: created.permissionIds } : {}) };
}

/** The permission ids a create answer lists; undefined when it did not list them (verify then reads the record). */
function answeredPermissions(record: { permissionAssignments?: { permissionId: string }[] | null | undefined }): string[] | undefined {
  return record.permissionAssignments?.map((p) => p.permissionId) ?? undefined;
}

async function create(deps: EffectDeps, r: RotationRecord, e: Extract<RotationEffect, { type: 'create' }>): Promise<RotationEvent> {
  const pending = await pendingOf(deps, r);
  try {
    if (r.strategy === 'rekey') {
      const current = await currentOf(deps, r);
      const port = deps.identities.asSecret(current.value, `rekey ${r.secretName}`);
      await port.createKeyCredential({ name: e.name, credId: pending.value.credId, privateKeyPem: pending.value.privateKeyPem, publicKeyPem: pending.value.publicKeyPem });
      await deps.afterCreateAnswered?.(r);
      return recordCreated(deps, r, { credentialId: current.value.credentialId!, credId: pending.value.credId, name: current.value.name, accessToken: null });
    }
    const op = await operator(deps);
    const permissionId = r.old.permissionIds[0];
    const input = { name: e.name, publicKeyPem: pending.value.publicKeyPem, daysValid: r.old.daysValid, externalId: e.externalId, ...(permissionId ? { permissionId } : {}) };
    if (r.kind === 'service-account') {
      const created = await op.createServiceAccount(input);
      await deps.afterCreateAnswered?.(r);
      const token = created.record.accessTokens.find((t) => t.isActive) ?? created.record.accessTokens[0];
      return recordCreated(deps, r, { credentialId: created.record.id, credId: token?.credId ?? '', name: created.record.name, accessToken: created.accessToken, permissionIds: answeredPermissions(created.record) });
    }
    const created = await op.createPersonalAccessToken(input);
    await deps.afterCreateAnswered?.(r);
    return recordCreated(deps, r, { credentialId: created.record.tokenId, credId: created.record.credId, name: created.record.name, accessToken: created.accessToken, permissionIds: answeredPermissions(created.record) });
  } catch (err) {
    const code = errorCode(err);
    if (code === 'DFNS_CREATE_LOST') return { type: 'orphan-found', credentialId: (err as { recordId: string }).recordId };
    if (code === 'DFNS_POLICY_PENDING') return { type: 'parked', approvalId: (err as { approvalId?: string }).approvalId ?? null };
    if (code === 'DFNS_CONFLICT' && r.strategy === 'replace') return { type: 'name-taken' };
    if (r.strategy === 'rekey' && code === 'DFNS_FORBIDDEN') {
      if (deps.policy.rekeyFallback === 'replace' && (await deps.identities.operator())) {
        deps.logger.warn({ rotationId: r.rotationId, secretName: r.secretName }, 'Dfns refused rekey (403); falling back to replace as configured');
        await updateSecret(deps.store, r.secretName, (record) => updatePending(record!, r.pendingVersionId!, { value: { credentialId: null, accessToken: null, credId: '', expiresAt: null }, metadata: { credentialId: null, credId: '' } }), { sleep: deps.sleep });
        return { type: 'switched-to-replace' };
      }
      return failure(r, err, 'Dfns refused to add a Key credential to this credential (rekey); set rekeyFallback: replace or use strategy replace: ');
    }
    if (isPermanentDfnsRefusal(err) || err instanceof RotationPlanError) return failure(r, err);
    throw err;
  }
}

async function reconcile(deps: EffectDeps, r: RotationRecord, e: Extract<RotationEffect, { type: 'reconcile' }>): Promise<RotationEvent> {
  const pending = await pendingOf(deps, r);
  // The store first: if the token reached it, the create is complete whatever Dfns says.
  if (r.strategy === 'replace' && pending.value.accessToken && pending.value.credentialId) {
    return { type: 'created', credentialId: pending.value.credentialId, credId: pending.value.credId, name: pending.value.name, expiresAt: pending.metadata.expiresAt ?? null };
  }
  if (r.strategy === 'rekey') {
    const current = await currentOf(deps, r);
    const found = (await deps.identities.asSecret(current.value, `rekey ${r.secretName}`).listCredentials()).find((c) => c.credentialId === pending.value.credId);
    // The key is in the store already, so a rekey whose answer was lost lost nothing.
    return found ? recordCreated(deps, r, { credentialId: current.value.credentialId!, credId: pending.value.credId, name: current.value.name, accessToken: null }) : { type: 'nothing-created' };
  }
  const op = await operator(deps);
  const matches = (x: { name: string; externalId?: string }) => x.externalId === e.externalId || x.name === e.name;
  const found = r.kind === 'service-account'
    ? (await op.listServiceAccounts()).find(matches)?.id
    : (await op.listPersonalAccessTokens()).find(matches)?.tokenId;
  return found ? { type: 'orphan-found', credentialId: found } : { type: 'nothing-created' };
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
    if (isPermanentDfnsRefusal(err)) return failure(r, err, 'verify: the new credential does not work: ');
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

async function announce(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  const retireAt = (r.promotedAt ?? deps.clock.now()) + deps.config.rotation.overlapHours * 3_600_000;
  await deps.notify.enqueue(
    { type: 'rotation-succeeded', rotationId: r.rotationId, credential: rotationCredential(r, deps.policy), newCredentialId: r.created!.credentialId, newExpiresAt: r.created!.expiresAt, retireAt, reason: r.reason },
    `rotation-succeeded:${r.rotationId}`,
  );
  return { type: 'announced' };
}

async function scheduleRetire(deps: EffectDeps, r: RotationRecord): Promise<RotationEvent> {
  const retireAt = (r.promotedAt ?? deps.clock.now()) + deps.config.rotation.overlapHours * 3_600_000;
  await deps.retireQueue.add('retire', { rotationId: r.rotationId, phase: 'deactivate' }, {
    jobId: jobIds.retire(r.rotationId, 'deactivate'),
    delay: Math.max(0, retireAt - deps.clock.now()),
    attempts: 10,
    backoff: { type: 'exponential', delay: 60_000 },
    removeOnComplete: { age: 90 * 86_400 },
    removeOnFail: { age: 90 * 86_400 },
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
      return { type: 'create-begun', attempt: effect.attempt };
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
    case 'wait':
    case 'finished':
      return null;
  }
}

export { removeCreated, ignoreGone, operator as operatorPort, currentOf };
