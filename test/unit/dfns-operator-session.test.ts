import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { DFNS_APP_METADATA_CLAIM } from '../../src/dfns/jwt.js';
import { OperatorSession } from '../../src/dfns/operator-session.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const tokenExpiringAt = (ms: number | undefined, n: number) =>
  `${b64({ alg: 'EdDSA' })}.${b64({ ...(ms === undefined ? {} : { exp: ms / 1000 }), n, [DFNS_APP_METADATA_CLAIM]: { orgId: 'or-1' } })}.sig`;

function setup(lifetimeMs: number | null = 3_600_000) {
  const clock = new ManualClock(1_700_000_000_000);
  let n = 0;
  const issued: string[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const session = new OperatorSession({
    clock,
    refreshMarginMs: 60_000,
    login: async () => {
      if (gate) await gate;
      n += 1;
      const token = tokenExpiringAt(lifetimeMs === null ? undefined : clock.now() + lifetimeMs, n);
      issued.push(token);
      return token;
    },
  });
  const hold = () => {
    gate = new Promise((r) => (release = r));
    return () => {
      gate = undefined;
      release?.();
    };
  };
  return { clock, session, issued, hold };
}

describe('OperatorSession', () => {
  it('caches the login token until refreshMargin before exp, then logs in again', async () => {
    const { clock, session, issued } = setup();
    const first = await session.token();
    clock.advance(3_600_000 - 60_000 - 1);
    expect(await session.token()).toBe(first);
    expect(session.logins).toBe(1);
    clock.advance(1);
    const second = await session.token();
    expect(second).not.toBe(first);
    expect(issued).toEqual([first, second]);
    expect(session.logins).toBe(2);
  });

  it('shares one login among concurrent callers', async () => {
    const { session, hold } = setup();
    const release = hold();
    const waiting = Promise.all([session.token(), session.token(), session.token()]);
    release();
    const tokens = await waiting;
    expect(new Set(tokens).size).toBe(1);
    expect(session.logins).toBe(1);
  });

  it('renew drops only the token that failed', async () => {
    const { session } = setup();
    const first = await session.token();
    session.renew('some-older-token');
    expect(await session.token()).toBe(first);
    session.renew(first);
    expect(await session.token()).not.toBe(first);
    expect(session.logins).toBe(2);
  });

  it('keeps a token without exp until a 401 renews it', async () => {
    const { clock, session } = setup(null);
    const first = await session.token();
    clock.advance(365 * 86_400_000);
    expect(await session.token()).toBe(first);
    session.renew(first);
    expect(await session.token()).not.toBe(first);
  });

  it('a failed login is not cached: the next caller tries again', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const session = new OperatorSession({
      clock,
      login: async () => {
        calls += 1;
        if (calls === 1) throw new Error('login refused');
        return tokenExpiringAt(3_600_000, calls);
      },
    });
    await expect(session.token()).rejects.toThrow('login refused');
    await expect(session.token()).resolves.toContain('.');
    expect(calls).toBe(2);
  });

  it('refuses a login answer that is not a JWT, without quoting it', async () => {
    const session = new OperatorSession({ clock: new ManualClock(0), login: async () => 'opaque-secret-value' });
    const err = (await session.token().then(
      () => expect.unreachable('expected a failure'),
      (e: unknown) => e,
    )) as Error & { code: string };
    expect(err.code).toBe('DFNS_INVALID_ANSWER');
    expect(err.message).toMatch(/^operatorLogin: login token is not a readable JWT/);
    expect(err.message).not.toContain('opaque-secret-value');
  });
});
