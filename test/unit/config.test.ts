import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolvePolicy, type LoadConfigInput } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const operatorKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const storeKey = randomBytes(32).toString('base64');
const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJleHAiOjF9.c2ln';

function fs(files: Record<string, string>): LoadConfigInput['readFile'] {
  return (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

const baseEnv = {
  DFNS_ORG_ID: 'or-test',
  DFNS_OPERATOR_USERNAME: 'rotator@acme.test',
  DFNS_OPERATOR_CRED_ID: 'cred-1',
  DFNS_OPERATOR_PRIVATE_KEY_FILE: '/keys/op.pem',
  DFNS_ROTATOR_STORE_KEY: storeKey,
};
const baseFiles = { '/keys/op.pem': operatorKey };

function load(over: Partial<LoadConfigInput> & { env?: Record<string, string | undefined>; files?: Record<string, string> } = {}) {
  return loadConfig({
    env: over.env ?? baseEnv,
    readFile: fs({ ...baseFiles, ...over.files }),
    cwd: '/work',
    configPath: over.configPath,
    flags: over.flags,
    needs: over.needs,
  });
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('builds a config from the environment with documented defaults', () => {
    const c = load();
    expect(c.dfns).toEqual({ baseUrl: 'https://api.dfns.io', orgId: 'or-test', requestsPerMinute: 200, timeoutMs: 15000, maxAttempts: 6 });
    expect(c.thresholds).toEqual({ warnDays: [30, 14, 7, 3, 1], rotateBeforeDays: 14 });
    expect(c.rotation.defaultStrategy).toBe('replace');
    expect(c.rotation.overlapHours).toBe(24);
    // Four rotations at once keep a 200/min budget busy; the concurrency follows the budget.
    expect(c.rotation.concurrency).toBe(4);
    expect(load({ env: { ...baseEnv, DFNS_REQUESTS_PER_MINUTE: '900' } }).rotation.concurrency).toBe(16);
    expect(load({ env: { ...baseEnv, DFNS_REQUESTS_PER_MINUTE: '50', DFNS_ROTATOR_ROTATE_CONCURRENCY: '7' } }).rotation.concurrency).toBe(7);
    expect(c.server.credentialMetrics).toBe('alerting');
    expect(c.assumedLifetime.defaultDays).toBe(730);
    expect(c.redis).toEqual({ kind: 'url', url: 'redis://127.0.0.1:6379', prefix: '{dfns-rotator}' });
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.operator?.privateKey.kind).toBe('value');
    expect(Object.isFrozen(c.dfns)).toBe(true);
  });

  it('never prints a secret, whichever way the config is shown', () => {
    const c = load();
    const shown = [JSON.stringify(c), inspect(c, { depth: 10 }), String(c.store.kind === 'file' && c.store.key)].join('\n');
    expect(shown).not.toContain('PRIVATE KEY');
    expect(shown).not.toContain(storeKey);
    expect(shown).toContain('[secret from file /keys/op.pem]');
  });

  it('lists every problem at once, each naming its field and where to set it', () => {
    const problems = problemsOf(() => load({ env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dfns\.orgId: required .*DFNS_ORG_ID/),
        expect.stringMatching(/^identity: configure an operator/),
        expect.stringMatching(/^store\.key: required.*DFNS_ROTATOR_STORE_KEY/),
        expect.stringMatching(/^rotation: strategy "replace" creates credentials/),
      ]),
    );
  });

  it.each([
    ['bad cron', { DFNS_ROTATOR_SCHEDULE: '61 * * * *' }, /^schedule\.scan: invalid cron expression "61 \* \* \* \*"/],
    ['thresholds out of order', { DFNS_ROTATOR_WARN_DAYS: '7,14,30' }, /^thresholds\.warnDays: must be strictly decreasing.*got \[7, 14, 30\]/],
    ['threshold not a number', { DFNS_ROTATOR_WARN_DAYS: '30,soon' }, /^DFNS_ROTATOR_WARN_DAYS: expected comma-separated numbers/],
    ['unreadable key file', { DFNS_OPERATOR_PRIVATE_KEY_FILE: '/keys/missing.pem' }, /^operator\.privateKey: cannot read file \/keys\/missing\.pem \(ENOENT\)/],
    ['key file without a key', { DFNS_OPERATOR_PRIVATE_KEY_FILE: '/keys/junk.pem' }, /^operator\.privateKey \(file \/keys\/junk\.pem\): not a PEM private key/],
    ['short store key', { DFNS_ROTATOR_STORE_KEY: 'abcd' }, /^store\.key \(env DFNS_ROTATOR_STORE_KEY\): is 4 hex characters; it must be 64 \(32 bytes\)/],
    ['two sources for one setting', { DFNS_OPERATOR_PRIVATE_KEY: operatorKey }, /^DFNS_OPERATOR_PRIVATE_KEY_FILE: DFNS_OPERATOR_PRIVATE_KEY already sets operator\.privateKey/],
    ['bad port', { DFNS_ROTATOR_PORT: 'http' }, /^DFNS_ROTATOR_PORT: expected a number/],
    ['unknown time zone', { DFNS_ROTATOR_TIMEZONE: 'Mars/Olympus' }, /^schedule\.timezone: unknown time zone/],
    ['watcher token not a JWT', { DFNS_WATCHER_TOKEN: 'not-a-token' }, /^watcher\.token \(env DFNS_WATCHER_TOKEN\): not a Dfns access token/],
  ])('%s gives one clear problem', (_name, env, pattern) => {
    const problems = problemsOf(() => load({ env: { ...baseEnv, ...env }, files: { '/keys/junk.pem': 'hello' } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(pattern);
    expect(problems.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('refuses a private key written into the config file, without echoing it', () => {
    const file = `dfns: { orgId: or-file }\noperator:\n  username: op\n  credId: c\n  privateKey: "-----BEGIN PRIVATE KEY-----abc"\n`;
    const problems = problemsOf(() => load({ env: { DFNS_ROTATOR_STORE_KEY: storeKey }, configPath: 'rotator.yaml', files: { '/work/rotator.yaml': file } }));
    expect(problems).toEqual([expect.stringMatching(/^operator\.privateKey: a private key must be referenced, never written into the config.*\(in config file \/work\/rotator\.yaml\)$/)]);
    expect(problems[0]).not.toContain('BEGIN');
  });

  it('names unknown keys (typos) in the file', () => {
    const file = `dfns: { orgId: or-file, orgID: typo }\n`;
    const problems = problemsOf(() => load({ env: baseEnv, configPath: '/etc/r.yaml', files: { '/etc/r.yaml': file } }));
    expect(problems.join('\n')).toMatch(/dfns: Unrecognized key: "orgID"/);
  });

  it('reports unparseable YAML with its location', () => {
    const problems = problemsOf(() => load({ env: baseEnv, configPath: '/etc/r.yaml', files: { '/etc/r.yaml': 'dfns: [unclosed' } }));
    expect(problems).toEqual([expect.stringMatching(/^config file \/etc\/r\.yaml: not valid YAML/)]);
  });

  it('applies precedence flags > env > file > defaults, and resolves file paths relative to the config file', () => {
    const file = [
      'dfns: { orgId: or-file, requestsPerMinute: 90 }',
      'thresholds: { rotateBeforeDays: 10 }',
      'store: { dir: secrets }',
      'operator: { username: op, credId: c, privateKey: { file: keys/op.pem } }',
    ].join('\n');
    const c = load({
      env: { DFNS_ORG_ID: 'or-env', DFNS_ROTATOR_STORE_KEY: storeKey },
      configPath: '/etc/rot/config.yaml',
      files: { '/etc/rot/config.yaml': file, '/etc/rot/keys/op.pem': operatorKey },
      flags: { thresholds: { rotateBeforeDays: 5 } },
    });
    expect(c.dfns.orgId).toBe('or-env');
    expect(c.dfns.requestsPerMinute).toBe(90);
    expect(c.thresholds.rotateBeforeDays).toBe(5);
    expect(c.store).toMatchObject({ kind: 'file', dir: '/etc/rot/secrets' });
    expect(c.operator?.privateKey.kind === 'value' && c.operator.privateKey.value.source).toBe('file /etc/rot/keys/op.pem');
    expect(c.source.file).toBe('/etc/rot/config.yaml');
  });

  it('requires dashboard credentials only for commands that serve it', () => {
    expect(load().server.auth).toBeNull();
    expect(problemsOf(() => load({ needs: { server: true } }))).toEqual([expect.stringMatching(/^server\.auth: the dashboard can trigger rotations/)]);
    const c = load({ env: { ...baseEnv, DFNS_ROTATOR_DASHBOARD_TOKEN: 'x'.repeat(32) }, needs: { server: true } });
    expect(c.server.auth?.kind).toBe('token');
  });

  it('reads the dashboard host allow-list from the environment or the file, and refuses a URL in it', () => {
    expect(load().server.allowedHosts).toEqual([]);
    expect(load({ env: { ...baseEnv, DFNS_ROTATOR_ALLOWED_HOSTS: 'rotator.internal.example, 10.0.0.7' } }).server.allowedHosts).toEqual(['rotator.internal.example', '10.0.0.7']);
    const problems = problemsOf(() => load({ env: { ...baseEnv, DFNS_ROTATOR_ALLOWED_HOSTS: 'https://rotator.example/' } }));
    expect(problems).toEqual([expect.stringMatching(/server\.allowedHosts\.0.*a host name or address, without scheme or path/)]);
  });

  it('allows a watch-only deployment once replace is not asked for', () => {
    const c = load({ env: { DFNS_ORG_ID: 'or-x', DFNS_WATCHER_TOKEN: jwt, DFNS_ROTATOR_STORE_KEY: storeKey, DFNS_ROTATOR_DEFAULT_STRATEGY: 'notify' } });
    expect(c.operator).toBeNull();
    expect(c.watcher?.token.kind).toBe('value');
  });

  it('demands a hash-tagged prefix with Redis Cluster', () => {
    const file = 'redis: { cluster: { nodes: [{ host: r1, port: 7000 }] }, prefix: rotator }';
    const problems = problemsOf(() => load({ configPath: '/c.yaml', files: { '/c.yaml': file } }));
    expect(problems).toEqual([expect.stringMatching(/^redis\.prefix: with a Redis Cluster the prefix must start with a hash tag/)]);
  });
});

describe('resolvePolicy', () => {
  const file = [
    'rules:',
    '  - { match: { name: "payments-*" }, strategy: rekey, maxKeyAgeDays: 90 }',
    '  - { match: { kind: pat }, strategy: notify, assumedLifetimeDays: 365 }',
    '  - { match: { name: "payments-legacy" }, daysValid: 30 }',
  ].join('\n');
  const c = load({ configPath: '/p.yaml', files: { '/p.yaml': file } });

  it.each([
    ['first matching rule sets the strategy', { kind: 'service-account' as const, id: 'us-1', name: 'payments-api' }, { strategy: 'rekey', maxKeyAgeDays: 90, ruleIndex: 0, daysValid: null }],
    ['later rules fill fields the first left unset', { kind: 'service-account' as const, id: 'us-2', name: 'payments-legacy' }, { strategy: 'rekey', daysValid: 30 }],
    ['kind match', { kind: 'pat' as const, id: 'to-1', name: 'ci' }, { strategy: 'notify', assumedLifetimeDays: 365, ruleIndex: 1 }],
    ['defaults when nothing matches', { kind: 'service-account' as const, id: 'us-3', name: 'other' }, { strategy: 'replace', assumedLifetimeDays: 730, ruleIndex: null, keyAlgorithm: 'ecdsa-p256' }],
  ])('%s', (_n, subject, expected) => {
    expect(resolvePolicy(c, subject)).toMatchObject(expected);
  });

  it('gives every credential no rule matches one shared, frozen policy per config, and a matched one its own', () => {
    const a = resolvePolicy(c, { kind: 'service-account', id: 'us-4', name: 'other-a' });
    expect(resolvePolicy(c, { kind: 'service-account', id: 'us-5', name: 'other-b' })).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(resolvePolicy(c, { kind: 'service-account', id: 'us-6', name: 'payments-x' })).not.toBe(a);
    const other = load({ env: { ...baseEnv, DFNS_ROTATOR_DEFAULT_STRATEGY: 'notify' } });
    expect(resolvePolicy(other, { kind: 'service-account', id: 'us-4', name: 'other-a' })).toMatchObject({ strategy: 'notify' });
  });
});

describe('config errors that name the fix (issue 9)', () => {
  it('checks the dfns.orgId format at load, naming DFNS_ORG_ID', () => {
    expect(problemsOf(() => load({ env: { ...baseEnv, DFNS_ORG_ID: 'acme-prod' } }))).toEqual([
      'dfns.orgId: "acme-prod" is not a Dfns organisation id; they start with "or-", like or-30tnh-itmjs-s235s5ontr3r23h2 (set dfns.orgId in the config file or DFNS_ORG_ID)',
    ]);
    expect(load({ env: { ...baseEnv, DFNS_ORG_ID: 'or-yanke-mars-6ulofamogg84s87v' } }).dfns.orgId).toBe('or-yanke-mars-6ulofamogg84s87v');
  });

  it('names the environment variable of a bad value, not "the environment"', () => {
    const problems = problemsOf(() => load({ env: { ...baseEnv, DFNS_ROTATOR_PORT: '99999', DFNS_ROTATOR_DEFAULT_STRATEGY: 'sometimes' } }));
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('server.port'))).toMatch(/\(in DFNS_ROTATOR_PORT\)$/);
    expect(problems.find((p) => p.startsWith('rotation.defaultStrategy'))).toMatch(/\(in DFNS_ROTATOR_DEFAULT_STRATEGY\)$/);
    expect(problems.join('\n')).not.toContain('(in environment)');
  });

  it('checks the Slack webhook URL at load: https to Slack unless slack.allowAnyHost', () => {
    const secretPath = '/services/T0/B0/very-secret';
    expect(problemsOf(() => load({ env: { ...baseEnv, SLACK_WEBHOOK_URL: `http://hooks.slack.com${secretPath}` } }))).toEqual([
      'slack.webhookUrl (env SLACK_WEBHOOK_URL): must be an https:// URL (got http://hooks.slack.com/***)',
    ]);
    const relay = problemsOf(() => load({ env: { ...baseEnv, SLACK_WEBHOOK_URL: `https://relay.internal${secretPath}` } }));
    expect(relay).toEqual([expect.stringContaining('relay.internal is not a Slack webhook host')]);
    expect(relay[0]).toContain('DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST=true');
    expect(relay.join()).not.toContain('very-secret');
    expect(load({ env: { ...baseEnv, SLACK_WEBHOOK_URL: `https://relay.internal${secretPath}`, DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST: 'true' } }).slack.allowAnyHost).toBe(true);
    // A local test server or relay: plain http on loopback, with allowAnyHost only.
    expect(problemsOf(() => load({ env: { ...baseEnv, SLACK_WEBHOOK_URL: `http://127.0.0.1:8080${secretPath}` } }))[0]).toContain('must be an https:// URL');
    expect(load({ env: { ...baseEnv, SLACK_WEBHOOK_URL: `http://127.0.0.1:8080${secretPath}`, DFNS_ROTATOR_SLACK_ALLOW_ANY_HOST: 'true' } }).slack.webhookUrl).not.toBeNull();
    expect(load({ env: { ...baseEnv, SLACK_WEBHOOK_URL: `https://hooks.slack.com${secretPath}` } }).slack.allowAnyHost).toBe(false);
  });
});

