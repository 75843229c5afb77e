import { newChallenge, newId } from './ids.js';
import { MSG, SimHttpError, badRequest, forbidden } from './dfns-errors.js';
import type { JwtIssuer } from './tokens.js';

/**
 * Challenges (login, user action, credential creation) and signed user actions. Both are
 * single-use and live `userActionTtlSeconds` on the simulator clock. The identifiers handed out
 * are JWTs signed by the simulator whose `jti` points at a record here; the record is the truth
 * (used or not, what it is bound to).
 */
export interface BoundAction {
  method: string;
  path: string;
  payload: string;
}

export type ChallengePurpose =
  | { kind: 'login'; userId: string }
  | { kind: 'action'; principal: string; action: BoundAction }
  | { kind: 'credential'; principal: string };

export interface ChallengeRecord {
  id: string;
  challenge: string;
  purpose: ChallengePurpose;
  expiresAt: number;
  used: boolean;
}

interface UserActionRecord {
  id: string;
  principal: string;
  /** The Key credential that signed it (for the audit log). */
  credentialUuid: string;
  action: BoundAction;
  expiresAt: number;
  used: boolean;
}

/** Records are swept once this many are held; expired ones go (replays of them then get 403). */
const MIN_SWEEP_THRESHOLD = 20_000;

export class ChallengeBook {
  readonly #jwt: JwtIssuer;
  readonly #challenges = new Map<string, ChallengeRecord>();
  readonly #actions = new Map<string, UserActionRecord>();
  #sweepAt = MIN_SWEEP_THRESHOLD;

  constructor(jwt: JwtIssuer) {
    this.#jwt = jwt;
  }

  issueChallenge(purpose: ChallengePurpose, nowMs: number, ttlSeconds: number): { record: ChallengeRecord; identifier: string } {
    this.#sweep(nowMs);
    const record: ChallengeRecord = { id: newId('ch'), challenge: newChallenge(), purpose, expiresAt: nowMs + ttlSeconds * 1000, used: false };
    this.#challenges.set(record.id, record);
    return { record, identifier: this.#jwt.internal('challenge', record.id, nowMs, record.expiresAt) };
  }

  /**
   * Takes a challenge for one attempt: it is consumed even when the attempt then fails, so a
   * signature can't be guessed against the same challenge. 400 "Challenge token is not valid."
   */
  consumeChallenge(identifier: unknown, kind: ChallengePurpose['kind'], nowMs: number): ChallengeRecord {
    const claims = typeof identifier === 'string' ? this.#jwt.verify(identifier) : null;
    const record = claims && claims.typ === 'challenge' && typeof claims.jti === 'string' ? this.#challenges.get(claims.jti) : undefined;
    if (!record || record.purpose.kind !== kind) throw badRequest(MSG.challengeInvalid, { reason: 'unknown challenge' });
    if (record.used) throw badRequest(MSG.challengeInvalid, { reason: 'challenge already used' });
    if (nowMs >= record.expiresAt) throw badRequest(MSG.challengeInvalid, { reason: 'challenge expired' });
    record.used = true;
    return record;
  }

  issueUserAction(principal: string, credentialUuid: string, action: BoundAction, nowMs: number, ttlSeconds: number): string {
    this.#sweep(nowMs);
    const record: UserActionRecord = { id: newId('ua'), principal, credentialUuid, action, expiresAt: nowMs + ttlSeconds * 1000, used: false };
    this.#actions.set(record.id, record);
    return this.#jwt.internal('userAction', record.id, nowMs, record.expiresAt);
  }

  /**
   * Checks the X-DFNS-USERACTION header of a mutation and uses it up. Replay -> 400 "user action
   * has already been used"; missing, forged, expired, another caller's, or bound to another
   * method/path/payload -> 403 "user action signature is missing or invalid". `actual.path`
   * is the request's pathname plus its query string, if any. Returns the signing credential's uuid.
   */
  redeemUserAction(header: string | undefined, principal: string, actual: BoundAction, nowMs: number, includeQuery: boolean): string {
    const invalid = (reason: string): SimHttpError => forbidden(MSG.userActionInvalid, { reason });
    if (!header) throw invalid('X-DFNS-USERACTION header missing');
    const claims = this.#jwt.verify(header);
    const record = claims && claims.typ === 'userAction' && typeof claims.jti === 'string' ? this.#actions.get(claims.jti) : undefined;
    if (!record) throw invalid('unknown or forged user action');
    if (record.used) throw badRequest(MSG.userActionUsed);
    if (nowMs >= record.expiresAt) throw invalid('user action expired');
    if (record.principal !== principal) throw invalid('user action signed by another caller');
    if (record.action.method !== actual.method) throw invalid('signed for another HTTP method');
    // The SDK signs URL.pathname (no query); DelegatedClient signs the path with its query.
    // Whether Dfns compares the query is UNCONFIRMED: the userActionPathIncludesQuery knob.
    const comparable = (path: string): string => (includeQuery ? path : path.split('?')[0]!);
    if (comparable(record.action.path) !== comparable(actual.path)) throw invalid('signed for another path');
    if (record.action.payload !== actual.payload) throw invalid('signed for another payload');
    record.used = true;
    return record.credentialUuid;
  }

  #sweep(nowMs: number): void {
    if (this.#challenges.size + this.#actions.size < this.#sweepAt) return;
    for (const [id, r] of this.#challenges) if (r.expiresAt <= nowMs) this.#challenges.delete(id);
    for (const [id, r] of this.#actions) if (r.expiresAt <= nowMs) this.#actions.delete(id);
    // Amortised: with many live records, don't rescan on every issue.
    this.#sweepAt = Math.max(MIN_SWEEP_THRESHOLD, 2 * (this.#challenges.size + this.#actions.size));
  }
}
