import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { generateStoreKey, parseStoreKey, storeKeyId, storeKeyToText } from '../../src/secrets/store-key.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const SOURCE = 'env DFNS_ROTATOR_STORE_KEY';

describe('parseStoreKey', () => {
  // 0xfb 0xff encode to "-_" in base64url and "+/" in base64
  const URL_KEY = Buffer.concat([Buffer.from([0xfb, 0xff]), KEY.subarray(2)]);

  it.each<[string, string | Buffer, Buffer]>([
    ['64 hex characters', KEY.toString('hex'), KEY],
    ['upper-case hex with a trailing newline (a key file)', `${KEY.toString('hex').toUpperCase()}\n`, KEY],
    ['base64', URL_KEY.toString('base64'), URL_KEY],
    ['base64 without padding', KEY.toString('base64').replace(/=+$/, ''), KEY],
    ['base64url', URL_KEY.toString('base64url'), URL_KEY],
    ['32 raw bytes', KEY, KEY],
    ['a key file read as a Buffer of text', Buffer.from(`  ${KEY.toString('base64')}\r\n`), KEY],
  ])('accepts %s', (_, material, expected) => {
    expect(parseStoreKey(material, SOURCE).equals(expected)).toBe(true);
  });

  it.each<[string, string, RegExp]>([
    ['an empty value', '  \n', /is empty/],
    ['too few hex characters', KEY.toString('hex').slice(0, 62), /is 62 hex characters; it must be 64 \(32 bytes\)/],
    ['too many hex characters', `${KEY.toString('hex')}00`, /is 66 hex characters/],
    ['base64 of 24 bytes', KEY.subarray(0, 24).toString('base64'), /decodes to 24 bytes; it must be 32/],
    ['something else', 'correct horse battery staple!', /is neither hex nor base64/],
    ['a placeholder of zeros', '0'.repeat(64), /is a placeholder \(every byte the same\)/],
  ])('refuses %s with a ConfigError naming the source and not the material', (_, material, message) => {
    let err: unknown;
    try {
      parseStoreKey(material, SOURCE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as Error).message;
    expect(text).toMatch(message);
    expect(text).toContain(`store key (${SOURCE})`);
    if (material.trim().length > 8) expect(text).not.toContain(material.trim().slice(0, 12));
  });
});

describe('generateStoreKey / storeKeyToText / storeKeyId', () => {
  it('generates distinct 32-byte keys whose text form parses back', () => {
    const a = generateStoreKey();
    const b = generateStoreKey();
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
    expect(storeKeyToText(a)).toHaveLength(44);
    expect(parseStoreKey(storeKeyToText(a), 'test').equals(a)).toBe(true);
  });

  it('gives a stable 8-hex fingerprint that differs per key and is not a prefix of the key or its plain hash', () => {
    expect(storeKeyId(KEY)).toMatch(/^[0-9a-f]{8}$/);
    expect(storeKeyId(KEY)).toBe(storeKeyId(Buffer.from(KEY)));
    expect(storeKeyId(KEY)).not.toBe(storeKeyId(generateStoreKey()));
    expect(KEY.toString('hex')).not.toContain(storeKeyId(KEY));
  });
});
