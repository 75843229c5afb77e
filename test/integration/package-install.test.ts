import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';

/**
 * What a user gets from `npm install dfns-rotator`: the project is packed (its `prepack` builds
 * it, in a copy, so the repository's dist/ is left alone), the tarball is installed into an empty
 * folder as a consumer would (their install ignores our `overrides`), and there the client entry
 * imports and type-checks, the `dfns-rotator` binary runs, and exactly one `@dfns/sdk` exists.
 */
const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function findPackages(dir: string, name: string, found: string[] = []): string[] {
  const nm = join(dir, 'node_modules');
  if (!existsSync(nm)) return found;
  for (const entry of readdirSync(nm)) {
    const scoped = entry.startsWith('@') ? readdirSync(join(nm, entry)).map((e) => join(entry, e)) : [entry];
    for (const pkg of scoped) {
      const path = join(nm, pkg);
      if (pkg === name) found.push(path);
      findPackages(path, name, found);
    }
  }
  return found;
}

describe('the published package', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let app: string;
  let files: string[];

  beforeAll(async () => {
    tmp = await makeTempDir('dfns-rotator-pack-');
    const copy = join(tmp.path, 'project');
    for (const item of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'src', 'docs']) {
      cpSync(join(ROOT, item), join(copy, item), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', tmp.path, ...NPM_FLAGS], { cwd: copy, maxBuffer: 16 << 20 });
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((f) => f.path);
    app = join(tmp.path, 'app');
    cpSync(join(ROOT, 'test', 'fixtures', 'consumer-app'), app, { recursive: true });
    await run('npm', ['install', join(tmp.path, info!.filename), ...NPM_FLAGS], { cwd: app, maxBuffer: 16 << 20 });
  }, 300_000);

  afterAll(async () => {
    await tmp?.remove();
  });

  it('ships the build, its types, the licence and docs, and nothing of the tests', () => {
    for (const f of ['dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'LICENSE', 'README.md', 'package.json', 'docs/credential.md']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.endsWith('.map'))).toEqual([]);
    expect(readFileSync(join(app, 'node_modules', 'dfns-rotator', 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  it('imports dfns-rotator/client and type-checks a service against it', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "import { rotatingDfnsClient, RotatingDfnsClient } from 'dfns-rotator/client'; import * as root from 'dfns-rotator'; console.log(typeof rotatingDfnsClient, typeof RotatingDfnsClient, typeof root.createSecretStore)"], { cwd: app });
    expect(stdout.trim()).toBe('function function function');
    // A Node service has @types/node of its own; here it is the repository's.
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
      files: ['service.ts'],
    }));
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: app }).catch((err: { stdout?: string }) => {
      throw new Error(`tsc failed in the consumer app:\n${err.stdout ?? String(err)}`);
    });
  }, 120_000);

  it('runs `npx dfns-rotator --help`', async () => {
    const { stdout } = await run('npx', ['--no-install', 'dfns-rotator', '--help'], { cwd: app });
    expect(stdout).toMatch(/usage: npx dfns-rotator <command>/);
    expect(stdout).toMatch(/secret/);
  });

  it('resolves a single @dfns/sdk', () => {
    expect(findPackages(app, '@dfns/sdk').map((p) => p.slice(app.length + 1))).toEqual([join('node_modules', '@dfns', 'sdk')]);
    expect(findPackages(app, '@dfns/sdk-keysigner')).toEqual([]);
  });
});
