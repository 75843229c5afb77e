import { z } from 'zod';
import { DAY_MS } from '../../clock.js';
import { badRequest, notFound } from './dfns-errors.js';
import { parsePublicKeyPem } from './signatures.js';
import type { KeyMaterial } from './records.js';
import type { PermissionRecord, SimState } from './state.js';

/** Body pieces shared by SA and PAT endpoints. */
export const MAX_DAYS_VALID = 730;

/** Dfns: "TTL 1 to 730 days" (older docs); current docs: > 0. 400 outside 1..730. */
export const daysValidField = z
  .number('must be an integer number of days')
  .int('must be an integer number of days')
  .min(1, `must be between 1 and ${MAX_DAYS_VALID}`)
  .max(MAX_DAYS_VALID, `must be between 1 and ${MAX_DAYS_VALID}`);

/** PAT only. Capped at 730 days like daysValid (UNCONFIRMED cap). */
export const secondsValidField = z
  .number('must be an integer number of seconds')
  .int('must be an integer number of seconds')
  .min(1, 'must be > 0')
  .max(MAX_DAYS_VALID * 86_400, `must be at most ${MAX_DAYS_VALID * 86_400} (730 days)`);

export const nameField = z.string().trim().min(1, 'must not be empty').max(255);

export function keyMaterialFrom(publicKey: string): KeyMaterial {
  const key = parsePublicKeyPem(publicKey);
  if (typeof key === 'string') throw badRequest(`publicKey ${key}`);
  return { publicKeyPem: publicKey, key };
}

export function permissionById(state: SimState, permissionId: string): PermissionRecord {
  const permission = state.permissions.get(permissionId);
  if (!permission) throw notFound(`Permission ${permissionId} not found`);
  return permission;
}

/** Token `exp` (epoch ms): secondsValid wins over daysValid; both absent -> the default (null: no `exp`). */
export function expiryFrom(now: number, input: { daysValid?: number; secondsValid?: number }, defaultDaysValid: number | null): number | null {
  if (input.secondsValid !== undefined) return now + input.secondsValid * 1000;
  const days = input.daysValid ?? defaultDaysValid;
  return days === null ? null : now + days * DAY_MS;
}
