import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A private redis-server on a free port: for tests, benchmarks and `dfns-rotator demo` when no REDIS_URL is given. */
export interface PrivateRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // not up yet: the loop retries
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch (err) {
      lastError = err;
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis-server did not answer PING within ${deadlineMs} ms: ${String(lastError)}`);
}

/**
 * `port`: listen there (one attempt; e.g. to restart a stopped server where its clients expect it) instead of a free port.
 * `ownProcessGroup`: keep redis-server out of the caller's process group, so a Ctrl-C in the
 * terminal reaches only the caller, which then shuts down in order (its daemon still needs
 * Redis while it finishes) and stops Redis last. The server is still killed if the caller exits
 * without stopping it.
 */
export async function startPrivateRedis(binary = 'redis-server', options: { port?: number; ownProcessGroup?: boolean } = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'dfns-rotator-redis-'));
  const attempts = options.port === undefined ? 5 : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--maxmemory-policy', 'noeviction', '--dir', dir, '--logfile', ''],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownProcessGroup === true },
    );
    const killOnExit = () => child.kill('SIGKILL');
    if (options.ownProcessGroup) {
      process.once('exit', killOnExit);
      child.once('exit', () => process.off('exit', killOnExit));
    }
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const url = `redis://127.0.0.1:${port}`;
    try {
      await Promise.race([waitForPing(url, child, 10_000), spawnError]);
    } catch (err) {
      child.kill('SIGKILL');
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`${binary} is not installed: install Redis 7 (Debian: apt-get install -y redis-server) or set REDIS_URL`);
      }
      continue; // port taken between probe and bind: try another
    }
    return {
      url,
      port,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) {
            rmSync(dir, { recursive: true, force: true });
            return resolve();
          }
          child.once('exit', () => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          });
          child.kill('SIGTERM');
        }),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(options.port === undefined ? 'could not start redis-server on a free port after 5 attempts' : `could not start redis-server on port ${options.port}`);
}
