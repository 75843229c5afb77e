export type * from './port.js';
export { KEY_ALGORITHMS } from './port.js';
export * from './errors.js';
export { createDfnsClient, DEFAULT_TIMEOUT_MS } from './client.js';
export type { DfnsClientOptions, OperatorIdentity, TokenIdentity } from './client.js';
export {
  RateLimiter,
  DEFAULT_REQUESTS_PER_MINUTE,
  TRIAL_REQUESTS_PER_MINUTE,
  DFNS_ORG_LIMIT_PER_MINUTE,
  DFNS_TRIAL_LIMIT_PER_MINUTE,
} from './rate-limiter.js';
export type { RateLimiterOptions } from './rate-limiter.js';
export { budgetShape } from './request-budget.js';
export type { RequestBudget, BudgetStats, BudgetShape } from './request-budget.js';
export { DEFAULT_RETRY_POLICY, resolveRetryPolicy } from './retry.js';
export type { RetryPolicy } from './retry.js';
export type { RequestEvent, RequestObserver } from './transport.js';
export type { RequestStep } from './routes.js';
export { readTokenExpiry, readTokenIdentity, decodeJwtClaims } from './jwt.js';
export type { TokenExpiry, TokenIdentity as TokenClaims } from './jwt.js';
export {
  generateKeyPair,
  publicKeyFromPrivate,
  privateKeyMatchesPublicKey,
  assertKeyPair,
  detectKeyAlgorithm,
  isKeyAlgorithm,
  InvalidKeyError,
  DEFAULT_KEY_ALGORITHM,
} from './keys.js';
export type { KeyPairPem } from './keys.js';
export { judgeCandidate, lookUpCreate, serviceAccountCandidate, patCandidate, CREATE_CLOCK_SKEW_MS } from './create-reconcile.js';
export type { Candidate, CreateIdentity, CreateLookup, Verdict } from './create-reconcile.js';
