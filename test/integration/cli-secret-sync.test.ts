import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RotateResult } from '../../src/jobs/rotate.js';
import type { Runtime } from '../../src/jobs/runtime.js';
import { drain, runJob, startFixture, type Fixture } from '../helpers/daemon-fixture.js';
import { LineChild } from '../helpers/line-child.js';
import { deletePrefix, newRedis } from '../helpers/redis.js';

/**
 * `dfns-rotator secret sync` as a real process beside a daemon that rotates the secret: the file
 * follows each rotation (atomically, mode 0600) and --exec runs exactly once per rotation.
 */
describe('dfns-rotator secret sync', () => {
  let fx: Fixture;
  let rt: Runtime;
  const redis = newRedis();

  beforeAll(async () => {
    fx = await startFixture({
      serviceAccounts: [{ name: 'batch', held: true, ageDays: 300, daysValid: 365 }],
      env: { DFNS_ROTATOR_OVERLAP_HOURS: '0', DFNS_ROTATOR_ARCHIVE_AFTER_HOURS: '0' },
    });
    rt = fx.runtime();
    await fx.adopt('batch', 'jobs/batch');
    rt.startWorkers();
  });

  afterAll(async () => {
    await fx.close();
    await deletePrefix(redis, fx.config.redis.prefix);
    redis.disconnect();
  });

  const tokenIn = (file: string) => /^DFNS_AUTH_TOKEN="(.*)"$/m.exec(readFileSync(file, 'utf8'))![1];
  async function currentToken(): Promise<string> {
    return (await rt.store.get('jobs/batch'))!.versions.find((v) => v.stages.includes('current'))!.value.accessToken!;
  }
  async function rotate(): Promise<RotateResult> {
    const result = await runJob<RotateResult>(rt.queues.rotate, 'rotate', { credential: 'jobs/batch', reason: 'sync test', requestedBy: 'test' });
    await drain(rt.queues.retire);
    await drain(rt.queues.retire);
    return result;
  }

  it('rewrites the file and runs the command once per rotation, and stops cleanly on SIGTERM', async () => {
    const out = join(fx.dir, 'run', 'dfns.env');
    const hookLog = join(fx.dir, 'hook.log');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(fx.dir, 'run')));
    const sync = new LineChild('src/cli.ts', fx.env, [
      'secret', 'sync', 'jobs/batch', '--out', out, '--format', 'dotenv', '--interval', '0.05',
      '--exec', `printf '%s %s\\n' "$DFNS_ROTATOR_VERSION" "$DFNS_ROTATOR_SECRET" >> ${hookLog}`,
    ]);
    try {
      await sync.waitForLine(/wrote .* version 1$/);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      expect(tokenIn(out)).toBe(await currentToken());
      expect(existsSync(hookLog)).toBe(false); // a new file: nothing read it yet

      const first = await rotate();
      await sync.waitForLine(/ran: /);
      expect(tokenIn(out)).toBe(await currentToken());
      expect(readFileSync(out, 'utf8')).toContain(`DFNS_CRED_ID="${(await rt.store.get('jobs/batch'))!.versions.find((v) => v.stages.includes('current'))!.value.credId}"`);
      expect(first.step).toBe('retire-scheduled');

      await rotate();
      await sync.waitForCount(/ran: /, 2);
      expect(tokenIn(out)).toBe(await currentToken());

      sync.process.kill('SIGTERM');
      await sync.waitForLine(/stopped syncing jobs\/batch/);
      expect((await sync.exited).code).toBe(0);
      // The old versions were archived meanwhile (the record changed): no extra runs for that.
      expect(readFileSync(hookLog, 'utf8').trim().split('\n')).toEqual(['2 jobs/batch', '3 jobs/batch']);
      expect(sync.lines.filter((l) => l.startsWith('wrote '))).toHaveLength(3);
      expect(sync.stderr).not.toMatch(/PRIVATE KEY|eyJhbGci/);
    } finally {
      if (sync.process.exitCode === null) await sync.kill();
    }
  });
});
