import { createHash, createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { judgeCandidate, lookUpCreate, parseFingerprint, type Candidate, type CreateIdentity } from '../../src/dfns/create-reconcile.js';
import { generateKeyPair, type KeyPairPem } from '../../src/dfns/keys.js';

/**
 * Issue 8: a retried rotation retired someone else's credential because a listed credential was
 * claimed as the lost create on its name alone. The decision is now evidence only: the staged
 * public key (PEM or fingerprint), our externalId, and a creation time after the create began.
 */
let ours: KeyPairPem;
let theirs: KeyPairPem;
const BEGAN = Date.UTC(2026, 11, 1, 12, 0, 0);
const AFTER = new Date(BEGAN + 1000).toISOString();
const LONG_BEFORE = new Date(BEGAN - 86_400_000).toISOString();

function digest(pem: string): Buffer {
  return createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest();
}

const fp = {
  base64: (pem: string) => `SHA256:${digest(pem).toString('base64').replace(/=+$/, '')}`,
  padded: (pem: string) => `SHA256:${digest(pem).toString('base64')}`,
  base64url: (pem: string) => `SHA256:${digest(pem).toString('base64url')}`,
  hex: (pem: string) => `SHA256:${digest(pem).toString('hex')}`,
  colons: (pem: string) => `SHA256:${digest(pem).toString('hex').match(/../g)!.join(':')}`,
};

beforeAll(async () => {
  ours = await generateKeyPair('ed25519');
  theirs = await generateKeyPair('ecdsa-p256');
});

function wanted(overrides: Partial<CreateIdentity> = {}): CreateIdentity {
  return { name: 'payments-bot-g2', externalIds: ['rotator:01ROT', 'rotator:01ROT:2'], publicKeyPem: ours.publicKeyPem, createdAfter: BEGAN, ...overrides };
}

type Row = [string, (k: { ours: KeyPairPem; theirs: KeyPairPem }) => Candidate, 'ours' | 'not-ours' | 'unproven', Partial<CreateIdentity>?];

const ROWS: Row[] = [
  // Name alone: never evidence.
  ['same name, key and externalId not listed', () => ({ name: 'payments-bot-g2', publicKeys: [''], dateCreated: AFTER }), 'unproven'],
  ['same name, key in a form that cannot be compared', () => ({ name: 'payments-bot-g2', publicKeys: ['key-42'], dateCreated: AFTER }), 'unproven'],
  // The key decides, in every listed form.
  ['same name, another key (PEM)', (k) => ({ name: 'payments-bot-g2', publicKeys: [k.theirs.publicKeyPem], dateCreated: AFTER }), 'not-ours'],
  ['same name, another key (fingerprint)', (k) => ({ name: 'payments-bot-g2', publicKeys: [fp.base64(k.theirs.publicKeyPem)], dateCreated: AFTER }), 'not-ours'],
  ['our key as PEM', (k) => ({ name: 'payments-bot-g2', publicKeys: [k.ours.publicKeyPem], dateCreated: AFTER }), 'ours'],
  ['our key as a base64 fingerprint', (k) => ({ name: 'payments-bot-g2', publicKeys: [fp.base64(k.ours.publicKeyPem)], dateCreated: AFTER }), 'ours'],
  ['our key as a padded base64 fingerprint', (k) => ({ name: 'x', publicKeys: [fp.padded(k.ours.publicKeyPem)] }), 'ours'],
  ['our key as a base64url fingerprint', (k) => ({ name: 'x', publicKeys: [fp.base64url(k.ours.publicKeyPem)] }), 'ours'],
  ['our key as a hex fingerprint', (k) => ({ name: 'x', publicKeys: [fp.hex(k.ours.publicKeyPem)] }), 'ours'],
  ['our key as a colon-separated hex fingerprint', (k) => ({ name: 'x', publicKeys: [fp.colons(k.ours.publicKeyPem)] }), 'ours'],
  ['our key among several tokens', (k) => ({ name: 'x', publicKeys: [fp.base64(k.theirs.publicKeyPem), fp.base64(k.ours.publicKeyPem)] }), 'ours'],
  // externalId.
  ['our externalId, key not listed', () => ({ name: 'payments-bot-g2', externalId: 'rotator:01ROT', publicKeys: [''], dateCreated: AFTER }), 'ours'],
  ['an earlier attempt\'s externalId', () => ({ name: 'payments-bot-g2-2', externalId: 'rotator:01ROT:2', publicKeys: [] }), 'ours'],
  ['another rotation\'s externalId, same name', () => ({ name: 'payments-bot-g2', externalId: 'rotator:01OTHER', publicKeys: [''], dateCreated: AFTER }), 'not-ours'],
  ['someone else\'s externalId, same name', () => ({ name: 'payments-bot-g2', externalId: 'terraform:payments', publicKeys: [''] }), 'not-ours'],
  ['a prefix of our externalId is not ours', () => ({ name: 'payments-bot-g2', externalId: 'rotator:01RO', publicKeys: [''] }), 'not-ours'],
  // Contradictions are never resolved in our favour.
  ['our externalId with another key', (k) => ({ name: 'payments-bot-g2', externalId: 'rotator:01ROT', publicKeys: [k.theirs.publicKeyPem] }), 'unproven'],
  ['our key with another externalId', (k) => ({ name: 'payments-bot-g2', externalId: 'rotator:01OTHER', publicKeys: [k.ours.publicKeyPem] }), 'unproven'],
  // Time: only ever against.
  ['created long before the create began, name only', () => ({ name: 'payments-bot-g2', publicKeys: [''], dateCreated: LONG_BEFORE }), 'not-ours'],
  ['our key but created long before the create began', (k) => ({ name: 'payments-bot-g2', publicKeys: [k.ours.publicKeyPem], dateCreated: LONG_BEFORE }), 'unproven'],
  ['created a minute before (clock skew): our key still counts', (k) => ({ name: 'x', publicKeys: [k.ours.publicKeyPem], dateCreated: new Date(BEGAN - 60_000).toISOString() }), 'ours'],
  ['unknown begin time: our key counts', (k) => ({ name: 'x', publicKeys: [k.ours.publicKeyPem], dateCreated: LONG_BEFORE }), 'ours', { createdAfter: undefined }],
  ['unparseable creation time is no evidence', () => ({ name: 'payments-bot-g2', publicKeys: [''], dateCreated: 'yesterday' }), 'unproven'],
];

describe('judgeCandidate', () => {
  it.each(ROWS)('%s → %s', (_, build, expected, over) => {
    const w = wanted(over);
    if (over && 'createdAfter' in over && over.createdAfter === undefined) delete w.createdAfter;
    const verdict = judgeCandidate(build({ ours, theirs }), w);
    expect(verdict.kind).toBe(expected);
    expect(verdict.why.length).toBeGreaterThan(10);
  });
});

describe('lookUpCreate', () => {
  it('returns every credential proven ours and the holder of the name, whatever the order', () => {
    const records: (Candidate & { id: string })[] = [
      { id: 'us-foreign', name: 'payments-bot-g2', publicKeys: [fp.base64(theirs.publicKeyPem)], dateCreated: AFTER },
      { id: 'us-unproven', name: 'payments-bot-g2', publicKeys: [''] },
      { id: 'us-ours', name: 'payments-bot-g2-2', publicKeys: [fp.base64(ours.publicKeyPem)] },
      { id: 'us-other', name: 'ledger-g2', publicKeys: [''] },
    ];
    const found = lookUpCreate(records, (r) => r, wanted());
    expect(found.ours.map((r) => r.id)).toEqual(['us-ours']);
    // The unproven holder wins over the proven-foreign one: that is the one people must check.
    expect(found.nameHolder?.record.id).toBe('us-unproven');
    expect(found.nameHolder?.verdict.kind).toBe('unproven');
    expect(lookUpCreate(records.slice(0, 1), (r) => r, wanted()).nameHolder?.verdict.kind).toBe('not-ours');
    expect(lookUpCreate(records.slice(3), (r) => r, wanted())).toEqual({ ours: [] });
  });
});

describe('parseFingerprint', () => {
  it.each(['SHA256:abc', 'MD5:00', '', 'SHA256:' + 'A'.repeat(44), 'ssh-ed25519 AAAA'])('does not recognise %j', (text) => {
    expect(parseFingerprint(text)).toBeNull();
  });
});
