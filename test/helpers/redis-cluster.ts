import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { freePort } from '../../src/redis/private-redis.js';

const run = promisify(execFile);

export interface PrivateCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/**
 * A three-master Redis Cluster of private redis-server processes, for the test that BullMQ, the
 * rotation store's scripts and the audit stream work on a Cluster (the prefix hash tag).
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'dfns-rotator-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    ports.push(port);
    children.push(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir, '--logfile', ''], { stdio: 'ignore' }),
    );
  }
  const stop = async () => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : (c.once('exit', () => resolve()), c.kill('SIGTERM'))))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      for (let i = 0; ; i++) {
        try {
          await run('redis-cli', ['-p', String(port), 'ping']);
          break;
        } catch (err) {
          if (i > 100) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; ; i++) {
      const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info']);
      if (/cluster_state:ok/.test(stdout)) break;
      if (i > 200) throw new Error(`cluster did not become ok: ${stdout}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
}

export function clusterClient(cluster: PrivateCluster): Cluster {
  return new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } });
}
