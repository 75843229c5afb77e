import { sign } from 'node:crypto';
import type { CredentialSigner, KeyAssertion, UserActionChallenge } from '@dfns/sdk';

/**
 * Signs Dfns user-action and login challenges with a Key credential: the SDK's `CredentialSigner`
 * interface, doing exactly what `@dfns/sdk-keysigner`'s `AsymmetricKeySigner` 0.8.3 does
 * (dfns-api.md §2): clientData is the UTF-8 JSON `{"type":"key.get","challenge":…}`, the
 * signature is Node's `crypto.sign` over those bytes (Ed25519: pure; ECDSA: SHA-256, DER; RSA:
 * PKCS#1 v1.5 SHA-256), both base64url without padding.
 *
 * Why our own: `@dfns/sdk-keysigner`'s latest release (0.8.3) pins `@dfns/sdk` 0.8.3 as a peer,
 * so an install of dfns-rotator would nest a second, older `@dfns/sdk` beside ours (a consumer's
 * install ignores our `overrides`). One small class keeps one `@dfns/sdk` in every install; a
 * test checks its output against the official signer's for every key algorithm.
 */
export interface KeySignerOptions {
  credId: string;
  /** PEM (PKCS#8 or SEC1/PKCS#1). Held in memory only; never logged. */
  privateKey: string;
  /** Digest name passed to `crypto.sign`; default: the key's own (as the official signer). */
  algorithm?: string;
}

/** A client-side refusal in the SDK's own shape (`DfnsError` with httpStatus -1), as the official signer throws. */
export class KeySignerError extends Error {
  override readonly name = 'DfnsError';
  readonly httpStatus = -1;
  readonly context = undefined;
}

export class KeySigner implements CredentialSigner<KeyAssertion> {
  readonly #options: KeySignerOptions;

  constructor(options: KeySignerOptions) {
    this.#options = { ...options };
  }

  async sign(challenge: UserActionChallenge): Promise<KeyAssertion> {
    const { credId, privateKey, algorithm } = this.#options;
    const allowed = (challenge.allowCredentials?.key ?? []).map((cred) => cred.id);
    if (!allowed.includes(credId)) {
      throw new KeySignerError(`${credId} does not match allowed credentials: ${allowed.join(',')}`);
    }
    const clientData = Buffer.from(JSON.stringify({ type: 'key.get', challenge: challenge.challenge }));
    return {
      kind: 'Key',
      credentialAssertion: {
        credId,
        clientData: clientData.toString('base64url'),
        signature: sign(algorithm || undefined, clientData, privateKey).toString('base64url'),
      },
    };
  }
}
