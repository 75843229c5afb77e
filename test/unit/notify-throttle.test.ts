import { describe, expect, it } from 'vitest';
import { ManualClock, type Sleep } from '../../src/clock.js';
import { NotifyRateLimitedError } from '../../src/notify/errors.js';
import { exampleNotifications } from '../fixtures/notifications.js';
import { createWebhookPacer, pacedNotifier } from '../../src/notify/throttle.js';
import type { Notification, Notifier } from '../../src/notify/types.js';

const T0 = Date.UTC(2025, 0, 1);

/** A sleep that moves the manual clock instead of waiting, and records what was asked for. */
function fakeTime() {
  const clock = new ManualClock(T0);
  const sleeps: number[] = [];
  const sleep: Sleep = async (ms) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  return { clock, sleep, sleeps };
}

describe('webhook pacer', () => {
  it('spaces sends to one webhook at least 1 s apart, in call order', async () => {
    const { clock, sleep, sleeps } = fakeTime();
    const pacer = createWebhookPacer({ clock, sleep });
    const starts: [string, number][] = [];
    const task = (name: string) => async () => {
      starts.push([name, clock.now() - T0]);
      return name;
    };
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((n) => pacer.run('hook-1', task(n))));
    expect(results).toEqual(['a', 'b', 'c', 'd']);
    expect(starts).toEqual([
      ['a', 0],
      ['b', 1000],
      ['c', 2000],
      ['d', 3000],
    ]);
    expect(sleeps).toEqual([1000, 1000, 1000]);
  });

  it('counts time a send took towards the gap', async () => {
    const { clock, sleep, sleeps } = fakeTime();
    const pacer = createWebhookPacer({ clock, sleep });
    const slow = async () => clock.advance(300);
    await Promise.all([pacer.run('hook', slow), pacer.run('hook', slow)]);
    expect(sleeps).toEqual([700]);
  });

  it('does not make one webhook wait for another', async () => {
    const { clock, sleep } = fakeTime();
    const pacer = createWebhookPacer({ clock, sleep });
    const order: string[] = [];
    const starts = new Map<string, number[]>();
    const task = (key: string, name: string) => async () => {
      order.push(name);
      starts.set(key, [...(starts.get(key) ?? []), clock.now()]);
    };
    await Promise.all([
      pacer.run('A', task('A', 'a1')),
      pacer.run('A', task('A', 'a2')),
      pacer.run('B', task('B', 'b1')),
      pacer.run('B', task('B', 'b2')),
    ]);
    // b1 starts before a2: B's first send does not queue behind A's pacing.
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('a2'));
    expect(order.indexOf('a1')).toBeLessThan(order.indexOf('a2'));
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('b2'));
    for (const key of ['A', 'B']) {
      const [first, second] = starts.get(key)!;
      expect(second! - first!).toBeGreaterThanOrEqual(1000);
    }
  });

  it('keeps going after a failure, which still reaches its caller', async () => {
    const { clock, sleep } = fakeTime();
    const pacer = createWebhookPacer({ clock, sleep });
    const starts: number[] = [];
    const failing = pacer.run('hook', async () => {
      starts.push(clock.now() - T0);
      throw new Error('boom');
    });
    const next = pacer.run('hook', async () => {
      starts.push(clock.now() - T0);
      return 'ok';
    });
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
    expect(starts).toEqual([0, 1000]);
  });

  it("waits out a 429's Retry-After before the next send", async () => {
    const { clock, sleep, sleeps } = fakeTime();
    const pacer = createWebhookPacer({ clock, sleep });
    const limited = pacer.run('hook', async () => {
      throw new NotifyRateLimitedError(5000, { target: 'slack:test/***', status: 429 });
    });
    const next = pacer.run('hook', async () => clock.now() - T0);
    await expect(limited).rejects.toMatchObject({ code: 'NOTIFY_RATE_LIMITED' });
    await expect(next).resolves.toBe(5000);
    expect(sleeps).toEqual([5000]);
  });

  it('paces a Notifier by its description', async () => {
    const { clock, sleep } = fakeTime();
    const pacer = createWebhookPacer({ clock, sleep, minIntervalMs: 1500 });
    const sent: [Notification['type'], number][] = [];
    const inner: Notifier = {
      description: 'slack:hooks.slack.com/***',
      send: async (n) => {
        sent.push([n.type, clock.now() - T0]);
      },
    };
    const paced = pacedNotifier(inner, pacer);
    const examples = exampleNotifications(T0);
    await Promise.all([paced.send(examples['scan-digest']), paced.send(examples['expiry-warning'])]);
    expect(paced.description).toBe('slack:hooks.slack.com/***');
    expect(sent).toEqual([
      ['scan-digest', 0],
      ['expiry-warning', 1500],
    ]);
  });
});
