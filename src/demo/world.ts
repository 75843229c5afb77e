import { DAY_MS } from '../clock.js';
import { generateKeyPair, type KeyPairPem } from '../dfns/keys.js';
import { expiryPhrase } from '../notify/format-time.js';
import type { SeedFile } from '../dfns/simulator/types.js';

/**
 * The demo's Dfns org: an operator who can rotate, and credentials at every stage of their life,
 * some held (their token and key go into the store, so they are managed) and some not.
 * Ages are chosen so the first scan has work to do at once.
 */
export const DEMO_OPERATOR = 'rotator@demo.example';
export const DEMO_OPERATOR_CRED_ID = 'demo-rotator-key';

export interface DemoCredential {
  name: string;
  kind: 'service-account' | 'pat';
  /** Held: adopted into the store at start, so the worker manages it. */
  held: boolean;
  ageDays: number;
  daysValid?: number;
  noExpiry?: boolean;
  isActive?: boolean;
  permission?: string;
  /** What a newcomer should watch for. */
  story: string;
}

export const DEMO_CREDENTIALS: readonly DemoCredential[] = [
  { name: 'payments-api', kind: 'service-account', held: true, ageDays: 355, daysValid: 365, permission: 'Reader', story: 'managed: rotated at once (replace)' },
  { name: 'ci-deployer', kind: 'pat', held: true, ageDays: 27, daysValid: 30, story: "the operator's PAT: rotated at once" },
  { name: 'settlement-bot', kind: 'service-account', held: true, ageDays: 340, daysValid: 365, story: 'managed: rotated automatically once 14 days are left' },
  { name: 'treasury-batch', kind: 'service-account', held: true, ageDays: 30, daysValid: 365, story: 'managed, healthy' },
  { name: 'reporting', kind: 'service-account', held: false, ageDays: 725, story: 'not held, so the expiry is estimated: a person is warned' },
  { name: 'legacy-batch', kind: 'service-account', held: true, ageDays: 400, noExpiry: true, story: 'held token without exp: expiry unknown, warned' },
  { name: 'retired-bot', kind: 'service-account', held: false, ageDays: 500, isActive: false, story: 'deactivated: listed as inactive' },
];

/**
 * Seeded an hour younger than their nominal age, so "10 days left" is what the banner, the log,
 * the inventory and Slack all say for the demo's first hour: everything rounds down, and a
 * credential exactly 10 days from expiry is 9 days 23 hours away a moment later.
 */
const AGE_SLACK_DAYS = 1 / 24;

/** The banner's line for a demo credential, worded as every message words expiry. */
export function demoExpiry(c: DemoCredential, now: number, assumedLifetimeDays: number): string {
  if (c.isActive === false) return 'inactive';
  if (c.noExpiry) return 'expiry unknown';
  const expiresAt = now + ((c.daysValid ?? assumedLifetimeDays) - c.ageDays + AGE_SLACK_DAYS) * DAY_MS;
  return `${expiryPhrase(expiresAt, now)}${c.held ? '' : ' (estimated)'}`;
}

export interface DemoWorld {
  seed: SeedFile;
  operatorKey: KeyPairPem;
  keys: Map<string, { credId: string; key: KeyPairPem }>;
}

export async function buildDemoWorld(): Promise<DemoWorld> {
  const operatorKey = await generateKeyPair('ed25519');
  const keys = new Map<string, { credId: string; key: KeyPairPem }>();
  for (const c of DEMO_CREDENTIALS.filter((c) => c.held)) keys.set(c.name, { credId: `key-${c.name}`, key: await generateKeyPair('ecdsa-p256') });
  const item = (c: DemoCredential) => ({
    name: c.name,
    ageDays: Math.max(0, c.ageDays - AGE_SLACK_DAYS),
    ...(c.daysValid !== undefined ? { daysValid: c.daysValid } : {}),
    ...(c.noExpiry ? { noExpiry: true } : {}),
    ...(c.isActive === false ? { isActive: false } : {}),
    ...(c.permission ? { permission: c.permission } : {}),
    ...(keys.has(c.name) ? { publicKeyPem: keys.get(c.name)!.key.publicKeyPem, credId: keys.get(c.name)!.credId } : {}),
  });
  const seed: SeedFile = {
    permissions: [
      {
        name: 'RotatorAdmin',
        operations: [
          'Auth:ServiceAccounts:Read', 'Auth:ServiceAccounts:Create', 'Auth:ServiceAccounts:Deactivate',
          'Auth:ServiceAccounts:Delete', 'Auth:Pats:Create', 'Permissions:Assign', 'Auth:Logs:Read',
        ],
      },
      { id: 'pm-demo-reader', name: 'Reader', operations: ['Auth:ServiceAccounts:Read'] },
    ],
    users: [{ username: DEMO_OPERATOR, permissions: ['RotatorAdmin'], credentials: [{ credId: DEMO_OPERATOR_CRED_ID, publicKeyPem: operatorKey.publicKeyPem }] }],
    serviceAccounts: DEMO_CREDENTIALS.filter((c) => c.kind === 'service-account').map(item),
    pats: DEMO_CREDENTIALS.filter((c) => c.kind === 'pat').map((c) => ({ ...item(c), owner: DEMO_OPERATOR })),
  };
  return { seed, operatorKey, keys };
}
