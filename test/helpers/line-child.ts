import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A TypeScript fixture run as a real child process (`node --import tsx`), read line by line.
 * Tests synchronise on the lines it prints, never on timers.
 */
export class LineChild {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #stderr = '';
  #waiters: { match: (line: string) => boolean; resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  #exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  /** `script` is a file of test/fixtures, or a path from the repository root (`src/cli.ts`) when it has a `/`. */
  constructor(script: string, env: Record<string, string>, args: string[] = []) {
    const path = script.includes('/') ? join(REPO_ROOT, script) : join(REPO_ROOT, 'test', 'fixtures', script);
    this.process = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString('utf8')));
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => (w.match(line) ? (w.resolve(line), false) : true));
    });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        this.#exit = { code, signal };
        for (const w of this.#waiters) w.reject(new Error(`child exited (${signal ?? code}) before printing the expected line; stderr: ${this.#stderr}`));
        this.#waiters = [];
        resolve({ code, signal });
      });
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves with the first line (already printed or to come) that matches. */
  waitForLine(match: RegExp | ((line: string) => boolean)): Promise<string> {
    const test = typeof match === 'function' ? match : (line: string) => match.test(line);
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#exit) return Promise.reject(new Error(`child already exited; stderr: ${this.#stderr}`));
    return new Promise((resolve, reject) => this.#waiters.push({ match: test, resolve, reject }));
  }

  /** Resolves once `count` lines matching have been printed. */
  async waitForCount(match: RegExp, count: number): Promise<void> {
    await this.waitForLine(() => this.lines.filter((l) => match.test(l)).length >= count);
  }

  send(line: string): void {
    this.process.stdin!.write(`${line}\n`);
  }

  /** SIGKILL: no cleanup handlers, no flushing, exactly like a crash or an OOM kill. */
  async kill(): Promise<void> {
    if (!this.#exit) this.process.kill('SIGKILL');
    await this.exited;
  }
}
