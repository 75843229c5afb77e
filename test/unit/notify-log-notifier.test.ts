import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/logger.js';
import { exampleCredential, exampleNotifications } from '../fixtures/notifications.js';
import { LogNotifier } from '../../src/notify/log-notifier.js';
import type { Notification } from '../../src/notify/types.js';

const NOW = Date.UTC(2025, 2, 10, 12, 0);

function setup() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { notifier: new LogNotifier({ logger, clock: new ManualClock(NOW) }), lines };
}

describe('LogNotifier', () => {
  const examples = exampleNotifications(NOW);

  it.each([
    ['expiry-warning', 40, { credentialKey: 'pat:to-7h2k1-0a9sd-b41c2v', state: 'warn', expirySource: 'estimate', daysLeft: 2 }],
    ['scan-digest', 40, { scanId: 'scan-01J9Z6W6T4', total: 12, rotationsQueued: 1, identityErrors: 1 }],
    ['rotation-succeeded', 30, { rotationId: '01J9Z6X2B7Q5', newCredentialId: 'us-5kq2d-0pl1m-8r7tu3vbn1' }],
    ['rotation-failed', 50, { rotationId: '01J9Z6X2B7Q5', step: 'create' }],
    ['rotation-parked', 40, { approvalId: 'ap-2b5n4-q8mjx-7s0pp1' }],
    ['credential-retired', 30, { outcome: 'deactivated' }],
  ] as const)('writes %s at level %d with its fields and the plain text', async (type, level, fields) => {
    const { notifier, lines } = setup();
    await notifier.send(examples[type]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level, notification: type, ...fields });
    expect(typeof lines[0]!.msg).toBe('string');
    expect((lines[0]!.msg as string).length).toBeGreaterThan(20);
  });

  it('logs the text unescaped: a log is not parsed for mentions', async () => {
    const { notifier, lines } = setup();
    const n = examples['rotation-failed'] as Extract<Notification, { type: 'rotation-failed' }>;
    await notifier.send({ ...n, credential: exampleCredential({ name: 'a & <b>' }, NOW) });
    expect(lines[0]!.msg).toContain('service account "a & <b>"');
  });

  it("raises an own-identity warning to error", async () => {
    const { notifier, lines } = setup();
    const n = examples['expiry-warning'] as Extract<Notification, { type: 'expiry-warning' }>;
    await notifier.send({ ...n, credential: { ...n.credential, isOwnIdentity: true } });
    expect(lines[0]).toMatchObject({ level: 50, ownIdentity: true });
  });
});
