import { stat, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DfnsError } from '@dfns/sdk';
import { ConfigError } from '../../src/errors.js';
import { DOCUMENTED_SHAPES, loadSeedFile, parseSeed, runSimulatorCli, startSimulator, type RunningSimulator } from '../../src/dfns/simulator/index.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { READ_DEACTIVATE_PERMISSION_ID, clientFor, jwtClaims, makeKey, operatorClient, operatorSeed, type TestKey } from './simulator-helpers.js';

const DAY_MS = 86_400_000;
/** JWT times are whole seconds. */
const sec = (ms: number) => Math.floor(ms / 1000);

/** The rejection reason; fails the test when the promise resolves. */
async function rejectionOf<E = DfnsError>(promise: Promise<unknown>): Promise<E> {
  return promise.then(
    () => { throw new Error('expected a rejection'); },
    (err: unknown) => err as E,
  );
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('simulator seed validation', () => {
  it('names the path of every problem', () => {
    const problems = problemsOf(() => parseSeed({ serviceAccounts: [{ name: 'ok' }, { name: 'bad-days', daysValid: 731 }] }));
    expect(problems).toEqual(['serviceAccounts[1].daysValid: must be 1..730']);
    const cross = problemsOf(() => parseSeed({
      permissions: [{ name: 'P', operations: [] }],
      users: [{ username: 'a', permissions: ['Missing'], credentials: [{ credId: 'k', publicKeyPem: 'not a pem' }] }],
      serviceAccounts: [{ name: 'ok' }, { name: 'ok', permission: 'Nope' }],
      pats: [{ name: 'p', owner: 'ghost' }],
      generate: { pats: 2, patOwner: 'ghost' },
    }));
    expect(cross).toEqual(expect.arrayContaining([
      'users[0].permissions[0]: unknown permission "Missing" (not in permissions[])',
      expect.stringMatching(/^users\[0\]\.credentials\[0\]\.publicKeyPem: must be a PEM public key/),
      expect.stringMatching(/^serviceAccounts\[1\]\.name: name "ok" is already used by serviceAccounts\[0\]\.name/),
      'serviceAccounts[1].permission: unknown permission "Nope" (not in permissions[])',
      'pats[0].owner: unknown user "ghost" (not in users[])',
      'generate.patOwner: unknown user "ghost" (not in users[])',
    ]));
  });

  it('refuses unknown fields and wrong types with their path', () => {
    const problems = problemsOf(() => parseSeed({ serviceAccounts: [{ name: 'x', ageDays: -1, colour: 'red' }] }));
    expect(problems.some((p) => p.startsWith('serviceAccounts[0].ageDays: must be >= 0'))).toBe(true);
    expect(problems.some((p) => p.startsWith('serviceAccounts[0]') && p.includes('colour'))).toBe(true);
  });

  it('loads JSON and YAML seed files and names the file when it is broken', async () => {
    const dir = await makeTempDir();
    try {
      await writeFile(join(dir.path, 'seed.json'), JSON.stringify({ serviceAccounts: [{ name: 'json-sa', daysValid: 10 }] }));
      await writeFile(join(dir.path, 'seed.yaml'), 'serviceAccounts:\n  - name: yaml-sa\n    daysValid: 0\n');
      await writeFile(join(dir.path, 'broken.json'), '{ nope');
      expect((await loadSeedFile(join(dir.path, 'seed.json'))).serviceAccounts?.[0]?.name).toBe('json-sa');
      const yamlErr = await rejectionOf<ConfigError>(loadSeedFile(join(dir.path, 'seed.yaml')));
      expect(yamlErr.message).toContain('seed.yaml');
      expect(yamlErr.problems).toEqual(['serviceAccounts[0].daysValid: must be 1..730']);
      const brokenErr = await rejectionOf<ConfigError>(loadSeedFile(join(dir.path, 'broken.json')));
      expect(brokenErr).toBeInstanceOf(ConfigError);
      expect(brokenErr.message).toContain('broken.json');
    } finally {
      await dir.remove();
    }
  });
});

describe('simulator seeded org', () => {
  let sim: RunningSimulator;
  let operatorKey: TestKey;
  let watcherKey: TestKey;
  let start: number;

  beforeAll(async () => {
    operatorKey = makeKey();
    watcherKey = makeKey('ecdsa-p256');
    sim = await startSimulator({
      seed: operatorSeed(operatorKey, {
        serviceAccounts: [
          { name: 'watcher', publicKeyPem: watcherKey.publicKeyPem, credId: 'watcher-key', permission: 'SaReadDeactivate', ageDays: 10, daysValid: 30 },
          { name: 'old-inactive', ageDays: 400, isActive: false },
          { name: 'legacy', noExpiry: true, ageDays: 1000 },
        ],
        pats: [{ name: 'operator-pat', owner: 'operator@acme.test', ageDays: 2.5, daysValid: 7 }],
        generate: { serviceAccounts: 10_000, pats: 50, maxAgeDays: 100, daysValid: 90 },
      }),
    });
    start = sim.clock.now();
  });
  afterAll(() => sim.close());

  it('seeds ages and lifetimes: dateCreated = now - ageDays, token exp = dateCreated + daysValid', async () => {
    const dfns = await operatorClient(sim, operatorKey);
    const items = (await dfns.auth.listServiceAccounts()).items;
    const watcher = items.find((i) => i.userInfo.name === 'watcher')!;
    expect(Date.parse(watcher.accessTokens[0]!.dateCreated)).toBe(start - 10 * DAY_MS);
    expect(watcher.userInfo.permissionAssignments[0]?.permissionId).toBe(READ_DEACTIVATE_PERMISSION_ID);
    const claims = jwtClaims(sim.seededTokens.get('watcher')!);
    expect(claims.iat).toBe(sec(start - 10 * DAY_MS));
    expect(claims.exp).toBe(sec(start + 20 * DAY_MS));
    expect(jwtClaims(sim.seededTokens.get('operator-pat')!).exp).toBe(sec(start - 2.5 * DAY_MS + 7 * DAY_MS));
    expect(jwtClaims(sim.seededTokens.get('legacy')!)).not.toHaveProperty('exp');
    expect(items.find((i) => i.userInfo.name === 'old-inactive')?.userInfo.isActive).toBe(false);
  });

  it('lists all 10,000 generated SAs through the SDK, ages spread over [0, maxAgeDays]', async () => {
    const dfns = await operatorClient(sim, operatorKey);
    const generated = (await dfns.auth.listServiceAccounts()).items.filter((i) => i.userInfo.name.startsWith('gen-sa-'));
    expect(generated).toHaveLength(10_000);
    expect(generated[0]?.userInfo.name).toBe('gen-sa-00001');
    expect(Date.parse(generated[0]!.accessTokens[0]!.dateCreated)).toBe(start);
    expect(Date.parse(generated[9_999]!.accessTokens[0]!.dateCreated)).toBe(start - 100 * DAY_MS);
    expect((await dfns.auth.listPersonalAccessTokens()).items).toHaveLength(51);
    expect(sim.seededTokens.size).toBe(3 + 1 + 10_000 + 50);
  });

  it('seeded tokens work as held tokens: active ones authenticate, inactive ones get 401', async () => {
    const asWatcher = clientFor(sim, sim.seededTokens.get('watcher')!, 'watcher-key', watcherKey);
    const target = (await asWatcher.auth.listServiceAccounts()).items.find((i) => i.userInfo.name === 'gen-sa-00002')!;
    await asWatcher.auth.deactivateServiceAccount({ serviceAccountId: target.userInfo.userId, body: {} });
    const generated = clientFor(sim, sim.seededTokens.get('gen-sa-00003')!, 'unused', watcherKey);
    expect((await generated.auth.listPersonalAccessTokens()).items).toEqual([]);
    const inactive = clientFor(sim, sim.seededTokens.get('old-inactive')!, 'unused', watcherKey);
    const err = await rejectionOf(inactive.auth.listPersonalAccessTokens());
    expect(err.httpStatus).toBe(401);
  });

  it('a token without exp outlives any clock move; a seeded one with exp does not', async () => {
    sim.clock.advance(21 * DAY_MS);
    const legacy = clientFor(sim, sim.seededTokens.get('legacy')!, 'unused', watcherKey);
    expect((await legacy.auth.listPersonalAccessTokens()).items).toEqual([]);
    const watcher = clientFor(sim, sim.seededTokens.get('watcher')!, 'watcher-key', watcherKey);
    expect((await rejectionOf(watcher.auth.listServiceAccounts())).httpStatus).toBe(401);
  });
});

describe('simulator knobs on answers', () => {
  it('returns externalId only with listIncludesExternalId', async () => {
    const operatorKey = makeKey();
    const sim = await startSimulator({ seed: operatorSeed(operatorKey) });
    try {
      const dfns = await operatorClient(sim, operatorKey);
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'ext', publicKey: makeKey().publicKeyPem, externalId: 'rotator:01J' } });
      expect(sa.userInfo).not.toHaveProperty('externalId');
      sim.setKnobs({ listIncludesExternalId: true });
      const listed = (await dfns.auth.listServiceAccounts()).items.find((i) => i.userInfo.userId === sa.userInfo.userId)!;
      expect(listed.userInfo).toHaveProperty('externalId', 'rotator:01J');
      expect(listed.accessTokens[0]).toHaveProperty('externalId', 'rotator:01J');
      const pat = await dfns.auth.createPersonalAccessToken({ body: { name: 'ext', publicKey: makeKey().publicKeyPem, externalId: 'rotator:01K', secondsValid: 3600, daysValid: 5 } });
      expect(pat).toHaveProperty('externalId', 'rotator:01K');
      const claims = jwtClaims(pat.accessToken);
      expect(claims.exp! - claims.iat).toBe(3600);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator knob listedPublicKey', () => {
  it('lists a token key as a SHA256 fingerprint (default), a PEM, or not at all', async () => {
    const operatorKey = makeKey();
    const sim = await startSimulator({ seed: operatorSeed(operatorKey) });
    try {
      const dfns = await operatorClient(sim, operatorKey);
      const key = makeKey();
      const sa = await dfns.auth.createServiceAccount({ body: { name: 'keyed', publicKey: key.publicKeyPem } });
      const listedKey = async () => (await dfns.auth.listServiceAccounts()).items.find((i) => i.userInfo.userId === sa.userInfo.userId)!.accessTokens[0]!.publicKey;
      expect(await listedKey()).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      sim.setKnobs({ listedPublicKey: 'pem' });
      expect(await listedKey()).toBe(key.publicKeyPem);
      sim.setKnobs({ listedPublicKey: 'empty' });
      expect(await listedKey()).toBe('');
      expect(() => sim.setKnobs({ listedPublicKey: 'hex' as never })).toThrow(/listedPublicKey/);
    } finally {
      await sim.close();
    }
  });
});

describe('simulator CLI', () => {
  it('starts from a seed file, prints its URL and org, and writes seeded tokens with mode 0600', async () => {
    const dir = await makeTempDir();
    const seedPath = join(dir.path, 'seed.json');
    const tokensPath = join(dir.path, 'tokens.json');
    await writeFile(seedPath, JSON.stringify({ orgId: 'or-cli-test', serviceAccounts: [{ name: 'cli-sa' }] }));
    await writeFile(tokensPath, 'old', { mode: 0o644 });
    const lines: string[] = [];
    const sim = await runSimulatorCli(['--seed', seedPath, '--tokens-out', tokensPath, '--latency', '0', '--rate-limit', '1000'], { out: (l) => lines.push(l) });
    try {
      expect(lines[0]).toBe(`Dfns simulator listening on ${sim.url} (org or-cli-test)`);
      expect(lines.join('\n')).not.toContain(sim.seededTokens.get('cli-sa'));
      expect((await stat(tokensPath)).mode & 0o777).toBe(0o600);
      const written = JSON.parse(await readFile(tokensPath, 'utf8')) as { url: string; tokens: Record<string, string> };
      expect(written.url).toBe(sim.url);
      const res = await fetch(`${sim.url}/auth/pats`, { headers: { authorization: `Bearer ${written.tokens['cli-sa']}` } });
      expect(res.status).toBe(200);
      expect(sim.knobs.rateLimitPerMinute).toBe(1000);
    } finally {
      await sim.close();
      await dir.remove();
    }
  });

  it('refuses bad flags, naming them', async () => {
    const err = await rejectionOf<ConfigError>(runSimulatorCli(['--fault-rate', '3', '--port', 'x'], { out: () => {} }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual(['--port: must be an integer 0..65535, got "x"', '--fault-rate: must be a number 0..1, got "3"']);
    await expect(runSimulatorCli(['--nope'], { out: () => {} })).rejects.toBeInstanceOf(ConfigError);
  });

  it('turns on the documented answer shapes from a seed file, --documented-shapes and --knob, flags winning', async () => {
    const dir = await makeTempDir();
    const seedPath = join(dir.path, 'seed.json');
    await writeFile(seedPath, JSON.stringify({
      knobs: { userInfoOmitsName: true, listIncludesExternalId: true },
      permissions: [{ name: 'Reader', operations: ['Auth:ServiceAccounts:Read'] }],
      serviceAccounts: [{ name: 'shaped', permission: 'Reader' }],
    }));
    const lines: string[] = [];
    const sim = await runSimulatorCli(['--seed', seedPath, '--documented-shapes', '--knob', 'omitKind=false', '--knob', 'patKeysOn=linked-user'], { out: (l) => lines.push(l) });
    try {
      expect(lines[1]).toBe('knobs: retryAfterSeconds=null, listIncludesExternalId=true, defaultDaysValid=null, createAnswerOmitsCredId=true, userInfoOmitsName=true, tenantIdInsteadOfOrgId=true, patKeysOn="linked-user"');
      expect(sim.knobs).toMatchObject({ ...DOCUMENTED_SHAPES, omitKind: false, patKeysOn: 'linked-user', listIncludesExternalId: true });
      const token = sim.seededTokens.get('shaped')!;
      const { items } = await (await fetch(`${sim.url}/auth/service-accounts`, { headers: { authorization: `Bearer ${token}` } })).json() as { items: { userInfo: Record<string, unknown>; accessTokens: Record<string, unknown>[] }[] };
      const [item] = items;
      expect(item!.userInfo).not.toHaveProperty('name'); // from the seed file
      expect(item!.userInfo).toMatchObject({ username: 'shaped', kind: 'CustomerEmployee', tenantId: sim.orgId }); // --knob omitKind=false wins
      expect(item!.userInfo).not.toHaveProperty('orgId');
      expect(item!.accessTokens[0]).toMatchObject({ tenantId: sim.orgId, kind: 'ServiceAccount' });
    } finally {
      await sim.close();
      await dir.remove();
    }
  });

  it('refuses an unknown or ill-typed knob, from a flag or a seed file, naming it', async () => {
    const err = await rejectionOf<ConfigError>(runSimulatorCli(['--knob', 'omitKnd=true', '--knob', 'patKeysOn=owner', '--knob', 'nonsense'], { out: () => {} }));
    expect(err.problems).toEqual([
      '--knob: expected NAME=VALUE (e.g. omitKind=true), got "nonsense"',
      '--knob patKeysOn: Invalid option: expected one of "pat"|"linked-user"',
      '--knob (knobs): Unrecognized key: "omitKnd"',
    ]);
    expect(() => parseSeed({ knobs: { defaultDaysValid: 0 } })).toThrow(/knobs\.defaultDaysValid: must be >= 1 \(or null: no exp\)/);
  });
});

