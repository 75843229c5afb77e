import { z } from 'zod';
import type { Notification } from './types.js';

/**
 * Runtime check of a notification, for `notify` jobs (which anyone with the dashboard can add by
 * hand). Kept in step with types.ts by the `z.ZodType<Notification>` annotation below.
 */
const state = z.enum(['ok', 'warn', 'rotate', 'expired', 'inactive', 'unknown']);
const epoch = z.number().finite();

const credential = z.object({
  key: z.string().min(1),
  kind: z.enum(['service-account', 'pat']),
  id: z.string().min(1),
  name: z.string(),
  owner: z.string().optional(),
  expiresAt: epoch.nullable(),
  expirySource: z.enum(['token', 'estimate', 'none']),
  strategy: z.enum(['replace', 'rekey', 'notify']),
  managed: z.boolean(),
  isOwnIdentity: z.boolean().optional(),
});

export const notificationSchema: z.ZodType<Notification> = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('expiry-warning'),
    credential,
    state: z.enum(['warn', 'rotate', 'expired', 'unknown']),
    thresholdDays: z.number().nullable(),
    daysLeft: z.number().nullable(),
    nextAction: z.string(),
  }),
  z.object({
    type: z.literal('expiry-batch'),
    scanId: z.string(),
    at: epoch,
    count: z.number().int().min(0),
    counts: z.partialRecord(z.enum(['expired', 'rotate', 'warn', 'unknown']), z.number().int().min(0)),
    examples: z.array(z.object({ credential, state, daysLeft: z.number().nullable() })),
  }),
  z.object({
    type: z.literal('scan-digest'),
    scanId: z.string(),
    at: epoch,
    total: z.number().int().min(0),
    counts: z.record(state, z.number().int().min(0)),
    urgent: z.array(z.object({ credential, state, daysLeft: z.number().nullable() })),
    rotationsQueued: z.number().int().min(0),
    errors: z.array(z.object({ identity: z.string(), message: z.string() })),
  }),
  z.object({
    type: z.literal('store-damaged'),
    secretName: z.string(),
    where: z.string(),
    problem: z.string(),
    action: z.string(),
  }),
  z.object({
    type: z.literal('rotation-succeeded'),
    rotationId: z.string(),
    credential,
    newCredentialId: z.string(),
    newExpiresAt: epoch.nullable(),
    retireAt: epoch,
    reason: z.string(),
  }),
  z.object({
    type: z.literal('rotation-failed'),
    rotationId: z.string(),
    credential,
    step: z.string(),
    error: z.string(),
    impact: z.string(),
    action: z.string(),
  }),
  z.object({
    type: z.literal('rotation-attention'),
    rotationId: z.string(),
    credential,
    step: z.string(),
    problem: z.string(),
    impact: z.string(),
    action: z.string(),
  }),
  z.object({
    type: z.literal('rotation-parked'),
    rotationId: z.string(),
    credential,
    step: z.string(),
    approvalId: z.string().optional(),
    action: z.string(),
  }),
  z.object({
    type: z.literal('credential-retired'),
    rotationId: z.string(),
    credential,
    outcome: z.enum(['deactivated', 'archived']),
  }),
  z.object({
    type: z.literal('retire-postponed'),
    rotationId: z.string(),
    credential,
    outcome: z.enum(['postponed', 'held']),
    lastUseAt: z.number(),
    retireAt: z.number().nullable(),
    maxRetireAt: z.number(),
    newCredentialId: z.string().nullable(),
  }),
]);
