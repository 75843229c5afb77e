import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../src/errors.js';
import { CREDENTIAL_FORMAT, parseCredentialJson, toCredentialJson } from '../../src/secrets/credential-json.js';
import { credentialJsonSchemaDocument } from '../../src/secrets/credential-schema-doc.js';
import { FAKE_PEM_HEADER, makeManagedSecret } from '../fixtures/managed-secret.js';

describe('the consumer credential JSON', () => {
  it('names ids the way Dfns does, per kind, and round-trips', () => {
    const sa = makeManagedSecret({ kind: 'service-account', credentialId: 'us-1' });
    const json = toCredentialJson(sa, { createdAt: 5, rotationId: 'r1', versionId: 3 });
    expect(json).toMatchObject({ format: CREDENTIAL_FORMAT, serviceAccountId: 'us-1', privateKey: sa.privateKeyPem, publicKey: sa.publicKeyPem });
    expect(json).not.toHaveProperty('tokenId');
    expect(parseCredentialJson(JSON.stringify(json), 'x')).toEqual({ value: sa, metadata: { createdAt: 5, rotationId: 'r1', versionId: 3 } });

    const pat = makeManagedSecret({ kind: 'pat', credentialId: 'to-1' });
    expect(toCredentialJson(pat)).toMatchObject({ tokenId: 'to-1' });
    expect(parseCredentialJson(toCredentialJson(pat), 'x').value).toEqual(pat);
  });

  it('refuses a bad value naming where and which field, never a value', () => {
    const bad = { ...toCredentialJson(makeManagedSecret()), algorithm: 'rot13' };
    let err: unknown;
    try {
      parseCredentialJson(JSON.stringify(bad), 'vault secret/data/dfns-rotator/a');
    } catch (e) {
      err = e;
    }
    expect(errorCode(err)).toBe('SECRET_CORRUPT');
    expect((err as Error).message).toContain('vault secret/data/dfns-rotator/a');
    expect((err as Error).message).toContain('algorithm');
    expect((err as Error).message).not.toContain(FAKE_PEM_HEADER);
    expect(() => parseCredentialJson('{not json', 'here')).toThrow(/here is corrupt: not JSON/);
  });

  it('is published as docs/credential.schema.json, generated from the same definition', () => {
    const published = JSON.parse(readFileSync(new URL('../../docs/credential.schema.json', import.meta.url), 'utf8'));
    // Regenerate with `npx tsx scripts/credential-schema.ts` after changing src/secrets/credential-json.ts.
    expect(published).toEqual(credentialJsonSchemaDocument());
    expect(published.required).toEqual(expect.arrayContaining(['format', 'kind', 'orgId', 'baseUrl', 'credId', 'accessToken', 'privateKey', 'publicKey', 'algorithm', 'expiresAt']));
  });
});
