import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { SimKnobs, SimOperation, FaultKind } from './types.js';

export const SIM_OPERATIONS = [
  'LoginInit', 'Login', 'ActionInit', 'ActionSign',
  'ListServiceAccounts', 'GetServiceAccount', 'CreateServiceAccount', 'UpdateServiceAccount',
  'ActivateServiceAccount', 'DeactivateServiceAccount', 'ArchiveServiceAccount',
  'ListPats', 'GetPat', 'CreatePat', 'UpdatePat', 'ActivatePat', 'DeactivatePat', 'ArchivePat',
  'CredentialInit', 'CreateCredential', 'ListCredentials', 'ActivateCredential', 'DeactivateCredential',
  'ListAuditLogs', 'GetAuditLog',
] as const satisfies readonly SimOperation[];

export const FAULT_KINDS = ['server-error', 'drop-before', 'drop-after', 'rate-limited'] as const satisfies readonly FaultKind[];

export const DEFAULT_KNOBS: Readonly<SimKnobs> = Object.freeze({
  latencyMs: 0,
  rateLimitPerMinute: null,
  retryAfterSeconds: 'until-reset',
  faultRate: 0,
  // Frozen too: mergeKnobs copies these arrays, so live knobs never alias the defaults.
  faultKinds: Object.freeze([...FAULT_KINDS]) as FaultKind[],
  faultOperations: Object.freeze([]) as unknown as SimOperation[],
  policyPending: Object.freeze([]) as unknown as SimOperation[],
  tokensMayManageCredentials: false,
  serviceAccountInheritsPermissions: false,
  listIncludesExternalId: false,
  listedPublicKey: 'fingerprint',
  userActionPathIncludesQuery: false,
  defaultDaysValid: 730,
  createAnswerOmitsCredId: false,
  userInfoOmitsName: false,
  tenantIdInsteadOfOrgId: false,
  omitKind: false,
  patKeysOn: 'pat',
  unreadableItems: Object.freeze([]) as unknown as string[],
  loginTokenSeconds: 3600,
  userActionTtlSeconds: 300,
  randomSeed: 1,
  actionLogMaxRows: 100_000,
});

const operation = z.enum(SIM_OPERATIONS);

/** A partial set of knobs, strict: an unknown knob name is an error (a seed file's `knobs` too). */
export const knobsPatchSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(60_000),
  rateLimitPerMinute: z.number().int().min(1).nullable(),
  retryAfterSeconds: z.union([z.number().int().min(0), z.literal('until-reset'), z.null()]),
  faultRate: z.number().min(0).max(1),
  faultKinds: z.array(z.enum(FAULT_KINDS)).min(1, 'must list at least one fault kind'),
  faultOperations: z.array(operation),
  policyPending: z.array(operation),
  tokensMayManageCredentials: z.boolean(),
  serviceAccountInheritsPermissions: z.boolean(),
  listIncludesExternalId: z.boolean(),
  listedPublicKey: z.enum(['fingerprint', 'pem', 'empty']),
  userActionPathIncludesQuery: z.boolean(),
  defaultDaysValid: z.number().int('must be a whole number of days').min(1, 'must be >= 1 (or null: no exp)').nullable(),
  createAnswerOmitsCredId: z.boolean(),
  userInfoOmitsName: z.boolean(),
  tenantIdInsteadOfOrgId: z.boolean(),
  omitKind: z.boolean(),
  patKeysOn: z.enum(['pat', 'linked-user']),
  unreadableItems: z.array(z.string().min(1)),
  loginTokenSeconds: z.number().int().min(1),
  userActionTtlSeconds: z.number().int().min(1),
  randomSeed: z.number().int(),
  actionLogMaxRows: z.number().int().min(1),
}).partial();

/**
 * Every answer shape Dfns' documentation shows, at once (dfns-api.md §9): what a client must
 * survive. `sim.setKnobs(DOCUMENTED_SHAPES)`, `"knobs": {...}` in a seed file, or
 * `dfns-rotator simulator --documented-shapes`.
 */
export const DOCUMENTED_SHAPES: Readonly<Partial<SimKnobs>> = Object.freeze({
  createAnswerOmitsCredId: true,
  userInfoOmitsName: true,
  tenantIdInsteadOfOrgId: true,
  omitKind: true,
  retryAfterSeconds: null,
  defaultDaysValid: null,
});

/** Validates a knob patch; throws ConfigError naming every bad knob. */
export function validateKnobsPatch(patch: unknown): Partial<SimKnobs> {
  const parsed = knobsPatchSchema.safeParse(patch ?? {});
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(knobs)'}: ${i.message}`),
      'simulator knobs',
    );
  }
  return parsed.data as Partial<SimKnobs>;
}

export function mergeKnobs(base: SimKnobs, patch: Partial<SimKnobs>): SimKnobs {
  const next: SimKnobs = { ...base, ...patch };
  next.faultKinds = [...next.faultKinds];
  next.faultOperations = [...next.faultOperations];
  next.policyPending = [...next.policyPending];
  next.unreadableItems = [...next.unreadableItems];
  return next;
}
