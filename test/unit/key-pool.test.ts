import { describe, expect, it } from 'vitest';
import { KeyPool } from '../../src/dfns/key-pool.js';
import { privateKeyMatchesPublicKey } from '../../src/dfns/keys.js';

describe('KeyPool', () => {
  it('keeps RSA pairs generated ahead, hands each out once, and generates fast algorithms on the spot', async () => {
    const pool = new KeyPool({ size: 2 });
    expect(pool.held('rsa-2048')).toBe(0);
    const first = await pool.take('rsa-2048');
    // Taking one starts its replacements: the next rotations find theirs ready.
    expect(pool.held('rsa-2048')).toBe(2);
    const second = await pool.take('rsa-2048');
    const third = await pool.take('rsa-2048');
    const pems = new Set([first, second, third].map((k) => k.privateKeyPem));
    expect(pems.size).toBe(3);
    for (const k of [first, second, third]) {
      expect(k.algorithm).toBe('rsa-2048');
      expect(privateKeyMatchesPublicKey(k.privateKeyPem, k.publicKeyPem)).toBe(true);
    }
    expect(pool.held('rsa-2048')).toBe(2);
    const ed = await pool.take('ed25519');
    expect(ed.algorithm).toBe('ed25519');
    expect(pool.held('ed25519')).toBe(0);
  });
});
