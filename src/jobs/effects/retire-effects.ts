import { UnrecoverableError } from 'bullmq';
import type { Clock, Sleep } from '../../clock.js';
import { dropVersion, versionById, versionWithStage } from '../../secrets/stages.js';
import type { SecretStore } from '../../secrets/types.js';
import type { Identities } from '../identities/identities.js';
import type { RotationEffect, RotationEvent, RotationRecord } from '../core/rotation-types.js';
import { deactivateIfActive, ignoreGone } from './effect-context.js';
import { updateSecret } from './secret-writes.js';

/**
 * The retirement's effects: deactivate the replaced credential, later archive it and drop its
 * version from the store. Both may run again after a crash: a credential already inactive or
 * archived (by an earlier attempt or a person) is the goal reached. The machine only names them
 * after promote (`nextRetireEffect`); the usage check that gates the deactivate is the retire
 * job's (retire-usage.ts).
 */

export interface RetireEffectDeps {
  store: Pick<SecretStore, 'get' | 'put'>;
  identities: Identities;
  clock: Clock;
  sleep: Sleep;
}

export async function runRetireEffect(deps: RetireEffectDeps, r: RotationRecord, effect: RotationEffect): Promise<RotationEvent | null> {
  switch (effect.type) {
    case 'deactivate-old':
      return deactivateOld(deps, r);
    case 'archive-old':
      return archiveOld(deps, r);
    default:
      return null;
  }
}

export async function deactivateOld(deps: RetireEffectDeps, r: RotationRecord): Promise<RotationEvent> {
  if (r.strategy === 'rekey') {
    // The secret's current version holds the new key, which Dfns accepts for this credential now.
    const secret = await deps.store.get(r.secretName);
    const current = secret && versionWithStage(secret.versions, 'current');
    if (!current) throw new UnrecoverableError(`secret "${r.secretName}" has no current version`);
    const port = deps.identities.asSecret(current.value, `retire ${r.secretName}`);
    const old = (await port.listCredentials()).find((c) => c.credentialId === r.old.credId);
    if (old?.isActive) await port.deactivateCredential(old.credentialUuid);
  } else {
    const op = await deps.identities.operator();
    if (!op) throw new UnrecoverableError('retiring a replaced credential needs the operator identity');
    await ignoreGone(() => deactivateIfActive(op, r.kind, r.old.credentialId));
  }
  return { type: 'deactivated', at: deps.clock.now() };
}

export async function archiveOld(deps: RetireEffectDeps, r: RotationRecord): Promise<RotationEvent> {
  if (r.strategy === 'replace') {
    const op = await deps.identities.operator();
    if (!op) throw new UnrecoverableError('archiving a replaced credential needs the operator identity');
    await ignoreGone(() => (r.kind === 'service-account' ? op.archiveServiceAccount(r.old.credentialId) : op.archivePersonalAccessToken(r.old.credentialId)));
  }
  // Its key and token are dead now: keep them nowhere.
  await updateSecret(deps.store, r.secretName, (record) => {
    const old = record && versionById(record.versions, r.old.versionId);
    if (!old || old.stages.includes('current') || old.stages.includes('pending')) return null;
    return dropVersion(record!, r.old.versionId);
  }, { sleep: deps.sleep });
  return { type: 'archived' };
}
