import { describe, expect, it } from 'vitest';
import * as dfns from '../../src/dfns/errors.js';
import { RotatorError } from '../../src/errors.js';
import { retriesInPlace, toJobOutcome, type JobOutcome } from '../../src/jobs/core/job-outcome.js';
import { RotationTransitionError } from '../../src/jobs/core/rotation-machine.js';
import { RotationPlanError } from '../../src/jobs/effects/rotation-plan.js';
import { ScanBlindError } from '../../src/jobs/scan-read.js';
import { SecretConflictError, SecretCorruptError, SecretLockError } from '../../src/secrets/errors.js';

const d = { operation: 'createServiceAccount' };

describe('toJobOutcome', () => {
  const table: [string, unknown, JobOutcome][] = [
    ['400 validation', new dfns.DfnsValidationError('bad', d), 'roll-back'],
    ['401 unauthorized', new dfns.DfnsUnauthorizedError('no', d), 'roll-back'],
    ['402 payment required', new dfns.DfnsPaymentRequiredError('pay', d), 'roll-back'],
    ['403 forbidden', new dfns.DfnsForbiddenError('no', d), 'roll-back'],
    ['404 not found', new dfns.DfnsNotFoundError('gone', d), 'roll-back'],
    ['an answer we cannot read', new dfns.DfnsInvalidAnswerError('odd', d), 'roll-back'],
    ['a request this process could not build', new dfns.DfnsClientError('local', d), 'roll-back'],
    // Answers a step handles itself before asking: if one gets here it is retried, never rolled back.
    ['409 conflict', new dfns.DfnsConflictError('taken', d), 'retry'],
    ['approval pending', new dfns.DfnsPolicyPendingError('wait', { ...d, approvalId: 'ap-1' }), 'retry'],
    ['a lost create', new dfns.DfnsCreateOutcomeLostError('lost', { ...d, recordKind: 'serviceAccount', recordId: 'us-1' }), 'retry'],
    ['429 rate limited', new dfns.DfnsRateLimitedError('slow', d), 'retry'],
    ['5xx', new dfns.DfnsServerError('down', d), 'retry'],
    ['timeout', new dfns.DfnsTimeoutError('slow', d), 'retry'],
    ['network', new dfns.DfnsNetworkError('reset', d), 'retry'],
    ['a plan error (our own input)', new RotationPlanError('the store was changed by hand'), 'unrecoverable'],
    ['a store conflict', new SecretConflictError('payments', 1, 2), 'retry'],
    ['a corrupt store', new SecretCorruptError('payments', 'bad json'), 'retry'],
    ['a machine bug', new RotationTransitionError({ rotationId: 'r', step: 'planned' } as never, { type: 'verified' }), 'retry'],
    ['a plain Error', new Error('boom'), 'retry'],
    // Through Redis an error is a plain object: its code decides.
    ['a Dfns refusal as a plain object', { code: 'DFNS_FORBIDDEN', message: 'no' }, 'roll-back'],
    ['a string', 'boom', 'retry'],
    ['undefined', undefined, 'retry'],
  ];
  it.each(table)('%s → %s', (_what, err, outcome) => {
    expect(toJobOutcome(err)).toBe(outcome);
  });
});

describe('retriesInPlace', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  const table: [string, unknown, string | null, boolean][] = [
    ['a concurrent write', new SecretConflictError('payments', 1, 2), null, true],
    ['a busy lock', new SecretLockError('/s/.lock', 'held'), null, true],
    ['a concurrent write, as a plain object', { code: 'SECRET_CONFLICT' }, null, true],
    ['EAGAIN', errno('EAGAIN'), null, true],
    ['EBUSY', errno('EBUSY'), null, true],
    ['a store retryable error', new RotatorError('VAULT_ERROR', '503', { retryable: true }), null, true],
    ['the same, while the store is out (its adapter retried already)', new RotatorError('VAULT_UNREACHABLE', 'down', { retryable: true }), 'VAULT_UNREACHABLE', false],
    ['a full disk', errno('ENOSPC'), 'ENOSPC', false],
    ['a corrupt store', new SecretCorruptError('payments', 'bad json'), null, false],
    ['a plain Error', new Error('boom'), null, false],
  ];
  it.each(table)('%s → %s', (_what, err, unwritable, expected) => {
    expect(retriesInPlace(err, unwritable)).toBe(expected);
  });
});

describe('every error class of the daemon is a RotatorError with a code', () => {
  it.each([
    ['RotationTransitionError', new RotationTransitionError({ rotationId: 'r', step: 'planned' } as never, { type: 'verified' }), 'ROTATION_TRANSITION'],
    ['ScanBlindError', new ScanBlindError([{ identity: 'operator', message: 'down' }]), 'SCAN_BLIND'],
  ])('%s', (name, err, code) => {
    expect(err).toBeInstanceOf(RotatorError);
    expect(err.name).toBe(name);
    expect((err as RotatorError).code).toBe(code);
  });
});
