import { DAY_MS } from '../clock.js';
import type { CredentialSummary, Notification, NotificationType } from './types.js';

/**
 * One realistic notification of each type, relative to `now`: for a "send a test message"
 * command, the docs, and tests. Ids are made up; nothing here is a secret.
 */
export function exampleCredential(overrides: Partial<CredentialSummary> = {}, now = 0): CredentialSummary {
  return {
    key: 'sa:us-3u9ne-8kkfb-9e5ocr6ckj',
    kind: 'service-account',
    id: 'us-3u9ne-8kkfb-9e5ocr6ckj',
    name: 'payments-signer',
    expiresAt: now + 6 * DAY_MS,
    expirySource: 'token',
    strategy: 'replace',
    managed: true,
    ...overrides,
  };
}

export function exampleNotifications(now: number): Record<NotificationType, Notification> {
  const sa = exampleCredential({}, now);
  const pat = exampleCredential(
    {
      key: 'pat:to-7h2k1-0a9sd-b41c2v',
      kind: 'pat',
      id: 'to-7h2k1-0a9sd-b41c2v',
      name: 'ci-deployer',
      owner: 'alice@example.com',
      expiresAt: now + 2 * DAY_MS,
      expirySource: 'estimate',
      strategy: 'notify',
      managed: false,
    },
    now,
  );
  return {
    'expiry-warning': {
      type: 'expiry-warning',
      credential: pat,
      state: 'warn',
      thresholdDays: 3,
      daysLeft: 2,
      nextAction: 'ask alice@example.com to create a new token in the Dfns dashboard',
    },
    'expiry-batch': {
      type: 'expiry-batch',
      scanId: 'scan-01J9Z6W6T4',
      at: now,
      count: 41,
      counts: { expired: 2, rotate: 9, warn: 30 },
      examples: [
        { credential: sa, state: 'rotate', daysLeft: 6 },
        { credential: pat, state: 'warn', daysLeft: 2 },
      ],
    },
    'scan-digest': {
      type: 'scan-digest',
      scanId: 'scan-01J9Z6W6T4',
      at: now,
      total: 12,
      counts: { ok: 8, warn: 1, rotate: 1, expired: 0, inactive: 1, unknown: 1 },
      urgent: [
        { credential: sa, state: 'rotate', daysLeft: 6 },
        { credential: pat, state: 'warn', daysLeft: 2 },
      ],
      rotationsQueued: 1,
      errors: [{ identity: 'watcher', message: 'listing service accounts failed: 401 token expired' }],
    },
    'rotation-succeeded': {
      type: 'rotation-succeeded',
      rotationId: '01J9Z6X2B7Q5',
      credential: sa,
      newCredentialId: 'us-5kq2d-0pl1m-8r7tu3vbn1',
      newExpiresAt: now + 90 * DAY_MS,
      retireAt: now + DAY_MS,
      reason: 'expires in 6 days (rotate-before window 14 days)',
    },
    'rotation-failed': {
      type: 'rotation-failed',
      rotationId: '01J9Z6X2B7Q5',
      credential: sa,
      step: 'create',
      error: 'Dfns answered 403: the operator lacks Auth:ServiceAccounts:Create',
      impact: 'the current credential is untouched and keeps working',
      action: 'grant the operator the Auth:ServiceAccounts:Create permission, then trigger a rotation from the dashboard',
    },
    'rotation-parked': {
      type: 'rotation-parked',
      rotationId: '01J9Z6X2B7Q5',
      credential: sa,
      step: 'create',
      approvalId: 'ap-2b5n4-q8mjx-7s0pp1',
      action: 'an approver must approve the request in the Dfns dashboard; the rotation resumes on the next scan',
    },
    'credential-retired': {
      type: 'credential-retired',
      rotationId: '01J9Z6X2B7Q5',
      credential: sa,
      outcome: 'deactivated',
    },
    'retire-postponed': {
      type: 'retire-postponed',
      rotationId: '01J9Z6X2B7Q5',
      credential: sa,
      outcome: 'postponed',
      lastUseAt: now - 3_600_000,
      retireAt: now + 86_400_000,
      maxRetireAt: now + 6 * 86_400_000,
      newCredentialId: 'us-7k2p9-m4q8r-5t1vw3x6y0z2a4b6',
    },
  };
}
