import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/redis/private-redis.js';

const run = promisify(execFile);

export interface PrivateSentinel {
  master: PrivateRedis;
  sentinels: { host: string; port: number }[];
  name: string;
  stop(): Promise<void>;
}

/** A private master watched by one Sentinel, for the test that the daemon finds Redis through Sentinel. */
export async function startPrivateSentinel(name = 'rotator-master'): Promise<PrivateSentinel> {
  const master = await startPrivateRedis();
  const dir = mkdtempSync(join(tmpdir(), 'dfns-rotator-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 ${master.port} 1\n`);
  const child: ChildProcess = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const stop = async () => {
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))));
    rmSync(dir, { recursive: true, force: true });
    await master.stop();
  };
  try {
    for (let i = 0; ; i++) {
      try {
        const { stdout } = await run('redis-cli', ['-p', String(port), 'sentinel', 'get-master-addr-by-name', name]);
        if (stdout.includes(String(master.port))) break;
      } catch (err) {
        if (i > 200) throw err;
      }
      if (i > 200) throw new Error('sentinel did not report its master');
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { master, sentinels: [{ host: '127.0.0.1', port }], name, stop };
}
