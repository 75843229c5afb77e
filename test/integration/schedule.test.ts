import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { addScheduledScan, catchUpScan, scheduleInterval, tickOf } from '../../src/jobs/queues/schedule.js';
import { silentLogger } from '../../src/logger.js';
import { deletePrefix, newRedis, redisUrl, testPrefix } from '../helpers/redis.js';

describe('scan schedule', () => {
  const prefix = testPrefix();
  const redis = newRedis();
  let queue: Queue;

  beforeAll(() => {
    queue = new Queue('scan', { connection: { url: redisUrl() }, prefix });
  });
  afterAll(async () => {
    await queue.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('names ticks to the second and measures a schedule by its gaps', () => {
    expect(tickOf(Date.parse('2026-11-21T10:17:00.004Z'))).toBe('2026-11-21T10:17:00Z');
    expect(scheduleInterval('17 * * * *', null)).toBe(3_600_000);
    expect(scheduleInterval('*/5 * * * *', 'Europe/Paris')).toBe(300_000);
    expect(scheduleInterval('* * * * * *', null)).toBe(1_000);
  });

  it('adds one job per tick, whoever adds it', async () => {
    await Promise.all([1, 2, 3].map(() => addScheduledScan(queue, '2026-11-21T10:17:00Z')));
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => [j.id, j.data])).toEqual([['scan_2026-11-21T10-17-00Z', { trigger: 'schedule', tick: '2026-11-21T10:17:00Z' }]]);
  });

  it('queues one catch-up scan when the last scan is older than an interval, none otherwise', async () => {
    await queue.obliterate({ force: true });
    const clock = new ManualClock(Date.parse('2026-11-21T12:00:30Z'));
    const interval = 3_600_000;
    const recent = await catchUpScan({ queue, lastSuccessAt: clock.now() - 10 * 60_000, interval, clock, logger: silentLogger });
    expect(recent).toBe(false);
    expect(await queue.count()).toBe(0);
    // Three replicas start together after a long outage: one catch-up scan.
    const started = await Promise.all([1, 2, 3].map(() => catchUpScan({ queue, lastSuccessAt: clock.now() - 5 * interval, interval, clock, logger: silentLogger })));
    expect(started).toEqual([true, true, true]);
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data)).toEqual([{ trigger: 'catch-up' }]);
    // Never scanned at all: also a catch-up.
    clock.advance(interval);
    expect(await catchUpScan({ queue, lastSuccessAt: null, interval, clock, logger: silentLogger })).toBe(true);
    expect(await queue.count()).toBe(2);
  });
});
