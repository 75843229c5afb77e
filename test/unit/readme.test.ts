import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';
import { ENV_VARS } from '../../src/config/index.js';

/** The README is the configuration reference: it must not fall behind the code. */
describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

  it('documents every environment variable the config reads', () => {
    expect(ENV_VARS.map((v) => v.name).filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('documents every command', () => {
    expect(COMMANDS.map((c) => c.name).filter((name) => !readme.includes(`dfns-rotator ${name}`))).toEqual([]);
  });

  it('has a two-command quick start whose npm scripts exist', () => {
    const quick = /## Quick start\n\n```sh\n([^`]+)```/.exec(readme)?.[1] ?? '';
    const lines = quick.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const script of quick.matchAll(/npm (?:run )?(\w+)/g)) {
      if (script[1] !== 'ci') expect(pkg.scripts[script[1]!], `npm script ${script[1]}`).toBeDefined();
    }
  });
});
