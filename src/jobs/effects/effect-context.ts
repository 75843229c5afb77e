import type { Queue } from 'bullmq';
import type { Clock, Sleep } from '../../clock.js';
import type { Config } from '../../config/types.js';
import type { KeySource } from '../../dfns/key-pool.js';
import type { DfnsPort } from '../../dfns/port.js';
import { errorCode, describeError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { versionById, versionWithStage } from '../../secrets/stages.js';
import type { SecretStore, SecretVersion } from '../../secrets/types.js';
import type { Identities } from '../identities/identities.js';
import type { NotifyEnqueuer } from '../notify-job.js';
import { RotationPlanError } from './rotation-plan.js';
import type { RotationEvent, RotationPolicy, RotationRecord } from '../core/rotation-types.js';

/**
 * What every rotation effect works with (the ports, the policy, the clock), and the small reads
 * and Dfns moves the effects share: the pending and current versions, the operator, and removing
 * a credential this rotation created.
 */
export interface EffectDeps {
  store: Pick<SecretStore, 'get' | 'put' | 'list'>;
  identities: Identities;
  retireQueue: Pick<Queue, 'add'>;
  notify: NotifyEnqueuer;
  config: Pick<Config, 'rotation' | 'dfns'>;
  /** The policy the rotation was planned with (`policyOfRotation`). */
  policy: RotationPolicy;
  clock: Clock;
  sleep: Sleep;
  logger: Logger;
  /** Fresh key pairs (generated ahead where that helps); default: generated on the spot. */
  keys?: KeySource;
  /** Test seam: called when Dfns has answered a create, before the token is stored. */
  afterCreateAnswered?: (record: RotationRecord) => Promise<void> | void;
}

export function failure(r: RotationRecord, err: unknown, prefix = ''): RotationEvent {
  return { type: 'permanent-failure', error: { code: errorCode(err) ?? 'ERROR', message: `${prefix}${describeError(err)}`, step: r.step } };
}

export async function pendingOf(deps: EffectDeps, r: RotationRecord): Promise<SecretVersion> {
  const record = await deps.store.get(r.secretName);
  const pending = record && r.pendingVersionId !== null ? versionById(record.versions, r.pendingVersionId) : undefined;
  if (!pending || !pending.stages.includes('pending') || pending.metadata.rotationId !== r.rotationId) {
    throw new RotationPlanError(`rotation ${r.rotationId}: the pending version ${r.pendingVersionId} of "${r.secretName}" is gone; the store was changed by hand`);
  }
  return pending;
}

export async function currentOf(deps: EffectDeps, r: RotationRecord): Promise<SecretVersion> {
  const record = await deps.store.get(r.secretName);
  const current = record && versionWithStage(record.versions, 'current');
  if (!current) throw new RotationPlanError(`secret "${r.secretName}" has no current version`);
  return current;
}

export async function operatorPort(deps: EffectDeps): Promise<DfnsPort> {
  const op = await deps.identities.operator();
  if (!op) throw new RotationPlanError('this step needs the operator identity, and none is configured');
  return op;
}

/** The Key credential id a rekey registers: chosen by us, so a lost answer is found by listing. */
export function rekeyCredId(rotationId: string): string {
  return `rk-${rotationId}`;
}

export async function ignoreGone(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    // Already archived (a lost answer of an earlier attempt, or a person did it): the goal is reached.
    if (errorCode(err) !== 'DFNS_NOT_FOUND') throw err;
  }
}

/**
 * Deactivates a service account or PAT (a replacement or an orphan this rotation created, or the
 * replaced one at retirement). No read first: the deactivate answer tells whether it worked, and
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
export async function removeCreated(deps: EffectDeps, kind: RotationRecord['kind'], id: string): Promise<void> {
  const op = await operatorPort(deps);
  await ignoreGone(() => deactivateIfActive(op, kind, id));
  await ignoreGone(() => (kind === 'service-account' ? op.archiveServiceAccount(id) : op.archivePersonalAccessToken(id)));
}
