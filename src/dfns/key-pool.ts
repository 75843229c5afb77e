import { generateKeyPair, type KeyPairPem } from './keys.js';
import type { KeyAlgorithm } from './port.js';

/** Where a rotation's fresh key pair comes from. */
export interface KeySource {
  take(algorithm: KeyAlgorithm): Promise<KeyPairPem>;
}

/** Generation only worth doing ahead: RSA takes 0.1–1 s of CPU (3072-bit: ~0.6 s); Ed25519 and ECDSA, under a millisecond. */
const SLOW: ReadonlySet<KeyAlgorithm> = new Set(['rsa-2048', 'rsa-3072']);

/**
 * Key pairs generated ahead of the rotations that need them, so a slow RSA generation is not in a
 * rotation's path: each `take` hands out a ready pair and starts generating its replacement (on
 * the libuv pool, off the event loop). Pairs are made on first demand of an algorithm, held in
 * this process's memory only (never in Redis or on disk), each handed out once, and dropped with
 * the process. Fast algorithms are generated on the spot.
 */
export class KeyPool implements KeySource {
  readonly #size: number;
  readonly #ready = new Map<KeyAlgorithm, Promise<KeyPairPem>[]>();

  constructor(options: { size: number }) {
    this.#size = Math.max(1, Math.floor(options.size));
  }

  take(algorithm: KeyAlgorithm): Promise<KeyPairPem> {
    if (!SLOW.has(algorithm)) return generateKeyPair(algorithm);
    const ready = this.#ready.get(algorithm) ?? [];
    this.#ready.set(algorithm, ready);
    const next = ready.shift() ?? generateKeyPair(algorithm);
    while (ready.length < this.#size) {
      const ahead = generateKeyPair(algorithm);
      ahead.catch(() => undefined); // a failed one is only seen by the rotation that takes it
      ready.push(ahead);
    }
    return next;
  }

  /** Pairs generated (or being generated) and not yet handed out. */
  held(algorithm: KeyAlgorithm): number {
    return this.#ready.get(algorithm)?.length ?? 0;
  }
}
