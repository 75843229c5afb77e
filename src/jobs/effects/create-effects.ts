import { readTokenExpiry } from '../../dfns/index.js';
import { errorCode } from '../../errors.js';
import { updatePending } from '../../secrets/stages.js';
import type { SecretVersion } from '../../secrets/types.js';
import { createIdentityOf, lookUpOwnCreate, type OwnCreateLookup } from './create-lookup.js';
import { currentOf, failure, operatorPort as operator, pendingOf, type EffectDeps } from './effect-context.js';
import { toJobOutcome } from '../core/job-outcome.js';
import { createTarget } from '../core/rotation-machine.js';
import { nameHolderNotice, storeUnwritableNotice } from '../core/rotation-notices.js';
import type { RotationEffect, RotationEvent, RotationRecord } from '../core/rotation-types.js';
import { storeUnwritableCode } from '../../secrets/errors.js';
import { StoreUnwritableError, updateSecret } from './secret-writes.js';

/**
 * The create side of a rotation: the attempt marker before each create, the create itself (after
 * checking that the name is free of anything not ours), the token written at once (held in memory
 * while the store refuses it), and the resume of a create whose outcome is unknown. Whether a
 * listed credential is ours is decided on evidence only (create-lookup.ts).
 */

/** How long a token Dfns showed once is held in memory while the store refuses writes. */
export const TOKEN_HOLD_MS = 30 * 60_000;

/** Writes what Dfns returned into the pending version at once: the token exists nowhere else. */
async function recordCreated(deps: EffectDeps, r: RotationRecord, created: { credentialId: string; credId: string; name: string; accessToken: string | null; permissionIds?: string[] | undefined }): Promise<RotationEvent> {
  const expiry = created.accessToken ? readTokenExpiry(created.accessToken) : null;
  const expiresAt = expiry?.kind === 'expires' ? expiry.expiresAt : null;
  const write = () =>
    updateSecret(
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
  try {
    await write();
  } catch (err) {
    const errno = storeUnwritableCode(err);
    if (!errno) throw err;
    await holdUntilWritten(deps, r, created.credentialId, errno, write);
  }
  const stored = await pendingOf(deps, r);
  return { type: 'created', credentialId: created.credentialId, credId: created.credId, name: created.name, expiresAt: stored.metadata.expiresAt ?? null, ...(created.permissionIds ? { permissionIds: created.permissionIds } : {}) };
}

/** The permission ids a create answer lists; undefined when it did not list them (verify then reads the record). */
function answeredPermissions(record: { permissionAssignments?: { permissionId: string }[] | null | undefined }): string[] | undefined {
  return record.permissionAssignments?.map((p) => p.permissionId) ?? undefined;
}

/**
 * The store is full or read-only right after Dfns showed the token: a lost token is not the
 * answer. Keep it in memory (the `write` closure), alert, and retry with backoff for up to
 * TOKEN_HOLD_MS. If the process dies meanwhile, the next run finds the credential by its key,
 * removes it and creates another, once the attempt marker can be written again.
 */
async function holdUntilWritten(deps: EffectDeps, r: RotationRecord, credentialId: string, errno: string, write: () => Promise<unknown>): Promise<void> {
  deps.logger.error({ rotationId: r.rotationId, secretName: r.secretName, credentialId, errno }, 'the secret store refused the new token; holding it in memory and retrying the write');
  await deps.notify.enqueue(storeUnwritableNotice(r, errno, credentialId, TOKEN_HOLD_MS / 60_000), `store-unwritable:${r.rotationId}:${credentialId}`).catch(() => undefined);
  const started = deps.clock.now();
  let last: unknown;
  for (let wait = 1000; deps.clock.now() - started < TOKEN_HOLD_MS; wait = Math.min(wait * 2, 30_000)) {
    await deps.sleep(wait);
    try {
      await write();
      deps.logger.warn({ rotationId: r.rotationId, secretName: r.secretName, credentialId, heldMs: deps.clock.now() - started }, 'the secret store took the held token');
      return;
    } catch (err) {
      if (!storeUnwritableCode(err)) throw err;
      last = err;
    }
  }
  throw new StoreUnwritableError(`the secret store stayed unwritable (${errno}) for ${TOKEN_HOLD_MS / 60_000} minutes after Dfns created ${credentialId}; its token is given up: the next attempt removes ${credentialId} (proven this rotation's by its key) and creates another`, errno, last);
}

/** Before each create: the attempt is written into the pending version. A store that cannot take it stops the rotation before Dfns is called. */
export async function beginCreate(deps: EffectDeps, r: RotationRecord, attempt: number): Promise<RotationEvent> {
  const pending = await pendingOf(deps, r);
  const firstAt = pending.metadata.createAttempt?.firstAt ?? r.createBegunAt ?? deps.clock.now();
  try {
    await updateSecret(deps.store, r.secretName, (record) => updatePending(record!, r.pendingVersionId!, { metadata: { createAttempt: { attempt, name: createTarget(r, attempt).name, firstAt } } }), { sleep: deps.sleep });
  } catch (err) {
    const errno = storeUnwritableCode(err);
    if (!errno) throw err;
    throw new StoreUnwritableError(`the secret store cannot be written (${errno}): the rotation stops before calling Dfns, so no credential is created whose token could not be stored; it resumes on the next attempt`, errno, err);
  }
  return { type: 'create-begun', attempt };
}

function orphansFound(seen: OwnCreateLookup): RotationEvent {
  return { type: 'orphan-found', credentialIds: seen.ours.map((o) => o.id), note: seen.ours.map((o) => `${o.id}: ${o.why}`).join('; ') };
}

/** The name is held by a credential not proven ours: leave it alone, take the next name, and tell people when it might be ours. */
async function nameTaken(deps: EffectDeps, r: RotationRecord, name: string, holder: NonNullable<OwnCreateLookup['holder']> | undefined): Promise<RotationEvent> {
  if (!holder) return { type: 'name-taken', note: `Dfns refused the name ${name} (409); the next attempt uses the next name` };
  const note = `${holder.id} holds the name ${name} and is not this rotation's (${holder.why}); it was not touched, the next attempt uses the next name`;
  deps.logger.warn({ rotationId: r.rotationId, secretName: r.secretName, holder: holder.id, verdict: holder.verdict }, note);
  if (holder.verdict === 'unproven') {
    await deps.notify.enqueue(nameHolderNotice(r, holder), `rotation-attention:${r.rotationId}:${holder.id}`);
  }
  return { type: 'name-taken', note };
}

export async function create(deps: EffectDeps, r: RotationRecord, e: Extract<RotationEffect, { type: 'create' }>): Promise<RotationEvent> {
  const pending = await pendingOf(deps, r);
  // The store first: a record older than the store (an earlier Redis snapshot) must not create twice.
  if (r.strategy === 'replace' && pending.value.accessToken && pending.value.credentialId) return createdFromStore(pending);
  const wanted = createIdentityOf(r, pending, e.name);
  try {
    if (r.strategy === 'rekey') {
      const current = await currentOf(deps, r);
      const port = deps.identities.asSecret(current.value, `rekey ${r.secretName}`);
      await port.createKeyCredential({ name: e.name, credId: pending.value.credId, privateKeyPem: pending.value.privateKeyPem, publicKeyPem: pending.value.publicKeyPem });
      await deps.afterCreateAnswered?.(r);
      return recordCreated(deps, r, { credentialId: current.value.credentialId!, credId: pending.value.credId, name: current.value.name, accessToken: null });
    }
    const op = await operator(deps);
    // Is the name free? A credential holding it is ours only on evidence, never by its name. On a
    // first attempt nothing of this rotation can exist yet, so the listing of the scan that queued
    // it answers (a name taken since gets a 409, checked below); otherwise Dfns is asked.
    const known = r.attempt === 1 && r.orphans.length === 0 && r.nameSeen?.name === e.name ? r.nameSeen : null;
    if (known?.holder) {
      return nameTaken(deps, r, e.name, { id: known.holder, name: e.name, verdict: 'not-ours', why: 'listed by the scan that queued this rotation, before the rotation began' });
    }
    if (!known) {
      const seen = await lookUpOwnCreate(op, r.kind, wanted);
      if (seen.ours.length > 0) return orphansFound(seen);
      if (seen.holder) return nameTaken(deps, r, e.name, seen.holder);
    }
    const permissionId = r.old.permissionIds[0];
    const input = {
      name: e.name, publicKeyPem: pending.value.publicKeyPem, daysValid: r.old.daysValid, externalId: e.externalId, ...(permissionId ? { permissionId } : {}),
      earlierExternalIds: wanted.externalIds.filter((id) => id !== e.externalId),
      ...(wanted.createdAfter !== undefined ? { createdAfter: wanted.createdAfter } : {}),
    };
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
    if (code === 'DFNS_CREATE_LOST') {
      // The port proved it ours (create-reconcile.ts) before saying so.
      const id = (err as { recordId: string }).recordId;
      return { type: 'orphan-found', credentialIds: [id], note: `${id}: found after an answer was lost, by its key or externalId` };
    }
    if (code === 'DFNS_POLICY_PENDING') return { type: 'parked', approvalId: (err as { approvalId?: string }).approvalId ?? null };
    if (code === 'DFNS_CONFLICT' && r.strategy === 'replace') {
      const seen = await lookUpOwnCreate(await operator(deps), r.kind, wanted);
      if (seen.ours.length > 0) return orphansFound(seen);
      return nameTaken(deps, r, e.name, seen.holder);
    }
    if (r.strategy === 'rekey' && code === 'DFNS_FORBIDDEN') {
      if (deps.policy.rekeyFallback === 'replace' && (await deps.identities.operator())) {
        deps.logger.warn({ rotationId: r.rotationId, secretName: r.secretName }, 'Dfns refused rekey (403); falling back to replace as configured');
        await updateSecret(deps.store, r.secretName, (record) => updatePending(record!, r.pendingVersionId!, { value: { credentialId: null, accessToken: null, credId: '', expiresAt: null }, metadata: { credentialId: null, credId: '' } }), { sleep: deps.sleep });
        return { type: 'switched-to-replace' };
      }
      return failure(r, err, 'Dfns refused to add a Key credential to this credential (rekey); set rekeyFallback: replace or use strategy replace: ');
    }
    if (toJobOutcome(err) !== 'retry') return failure(r, err);
    throw err;
  }
}

export async function reconcile(deps: EffectDeps, r: RotationRecord, e: Extract<RotationEffect, { type: 'reconcile' }>): Promise<RotationEvent> {
  const pending = await pendingOf(deps, r);
  // The store first: if the token reached it, the create is complete whatever Dfns says.
  if (r.strategy === 'replace' && pending.value.accessToken && pending.value.credentialId) return createdFromStore(pending);
  if (r.strategy === 'rekey') {
    const current = await currentOf(deps, r);
    const found = (await deps.identities.asSecret(current.value, `rekey ${r.secretName}`).listCredentials()).find((c) => c.credentialId === pending.value.credId);
    // The key is in the store already, so a rekey whose answer was lost lost nothing.
    return found ? recordCreated(deps, r, { credentialId: current.value.credentialId!, credId: pending.value.credId, name: current.value.name, accessToken: null }) : { type: 'nothing-created' };
  }
  // Only a credential proven this rotation's (key, externalId, time) is an orphan: a foreign one
  // holding the replacement's name is left alone (the create checks the name before sending).
  const seen = await lookUpOwnCreate(await operator(deps), r.kind, createIdentityOf(r, pending, e.name));
  return seen.ours.length > 0 ? orphansFound(seen) : { type: 'nothing-created' };
}

function createdFromStore(pending: SecretVersion): RotationEvent {
  return { type: 'created', credentialId: pending.value.credentialId!, credId: pending.value.credId, name: pending.value.name, expiresAt: pending.metadata.expiresAt ?? null };
}
