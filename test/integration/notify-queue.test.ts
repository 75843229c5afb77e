import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyProcessor, notifyEnqueuer, NOTIFY_LIMITER } from '../../src/jobs/notify-job.js';
import { silentLogger } from '../../src/logger.js';
import { exampleNotifications } from '../fixtures/notifications.js';
import { SlackNotifier } from '../../src/notify/slack.js';
import { FakeSlack, SECRET_TOKEN } from '../helpers/fake-slack.js';
import { deletePrefix, newRedis, redisUrl, testPrefix } from '../helpers/redis.js';

const examples = exampleNotifications(Date.UTC(2026, 0, 1));

describe('notify queue', () => {
  const slack = new FakeSlack();
  const redis = newRedis();
  let prefix: string;
  let queue: Queue;
  let events: QueueEvents;
  let worker: Worker;

  beforeAll(() => slack.start());
  afterAll(async () => {
    await slack.stop();
    redis.disconnect();
  });

  async function setUp(): Promise<void> {
    prefix = testPrefix();
    const connection = { url: redisUrl() };
    queue = new Queue('notify', { connection, prefix });
    events = new QueueEvents('notify', { connection, prefix });
    await events.waitUntilReady();
    const notifier = new SlackNotifier({ webhookUrl: slack.webhookUrl, allowAnyHost: true, timeoutMs: 2000 });
    worker = new Worker('notify', createNotifyProcessor({ notifier, queue, logger: silentLogger }), { connection, prefix, limiter: NOTIFY_LIMITER });
  }

  afterEach(async () => {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await deletePrefix(redis, prefix);
    slack.received.length = 0;
    slack.respond = (_req, res) => res.writeHead(200).end('ok');
  });

  async function finished(job: Job): Promise<'completed' | string> {
    try {
      await job.waitUntilFinished(events, 20_000);
      return 'completed';
    } catch (err) {
      return (err as Error).message;
    }
  }

  it('delivers a notification, waiting out a 429 for its Retry-After and retrying a 500', async () => {
    await setUp();
    const answers = [
      (res: import('node:http').ServerResponse) => res.writeHead(429, { 'retry-after': '0.2' }).end('rate_limited'),
      (res: import('node:http').ServerResponse) => res.writeHead(500).end('oops'),
      (res: import('node:http').ServerResponse) => res.writeHead(200).end('ok'),
    ];
    slack.respond = (_req, res) => answers.shift()!(res);
    await notifyEnqueuer(queue, { backoffDelayMs: 10 }).enqueue(examples['rotation-succeeded']);
    const [job] = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    expect(await finished(job!)).toBe('completed');
    expect(slack.received).toHaveLength(3);
    const done = await queue.getJob(job!.id!);
    // The 429 did not use up an attempt; only the 500 did.
    expect(done!.attemptsMade).toBe(2);
    expect(done!.returnvalue).toEqual({ delivered: true, via: expect.stringContaining('***') });
  });

  it('gives up at once on a permanent Slack error, without the webhook secret in the failure', async () => {
    await setUp();
    slack.respond = (_req, res) => res.writeHead(404).end('no_service');
    await notifyEnqueuer(queue, { backoffDelayMs: 10 }).enqueue(examples['expiry-warning']);
    const [job] = await queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
    const outcome = await finished(job!);
    expect(outcome).toMatch(/no_service/);
    expect(outcome).not.toContain(SECRET_TOKEN);
    expect(slack.received).toHaveLength(1);
  });

  it('fails a hand-made job with bad data, naming the field, and keeps serving', async () => {
    await setUp();
    const bad = await queue.add('expiry-warning', { type: 'expiry-warning', credential: { key: 'sa:x' } });
    expect(await finished(bad)).toMatch(/^invalid notification data: credential\.kind: /);
    const good = await queue.add('scan-digest', examples['scan-digest']);
    expect(await finished(good)).toBe('completed');
  });

  it('queues a deduplicated notification once', async () => {
    await setUp();
    await worker.pause();
    const enqueuer = notifyEnqueuer(queue);
    await enqueuer.enqueue(examples['rotation-failed'], 'rotation-failed:01J');
    await enqueuer.enqueue(examples['rotation-failed'], 'rotation-failed:01J');
    expect(await queue.count()).toBe(1);
  });
});
