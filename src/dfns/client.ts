import { realSleep, systemClock, type Clock, type Sleep } from '../clock.js';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Random } from './backoff.js';
import { CallRunner, type TokenSource } from './call-runner.js';
import { readTokenIdentity } from './jwt.js';
import { KeySigner } from './key-signer.js';
import { InvalidKeyError, detectKeyAlgorithm } from './keys.js';
import { loginSchema, parseAnswer } from './answers.js';
import { OperatorSession } from './operator-session.js';
import type { DfnsPort } from './port.js';
import type { RequestBudget } from './request-budget.js';
import { resolveRetryPolicy, type RetryPolicy } from './retry.js';
import { SdkDfnsPort } from './sdk-client.js';
import { loadSdk } from './sdk-loader.js';
import type { RequestObserver } from './transport.js';

export const DEFAULT_TIMEOUT_MS = 15_000;

/** An org user with a registered Key credential; the only identity that may create SAs and PATs. */
export interface OperatorIdentity {
  kind: 'operator';
  username: string;
  credId: string;
  privateKeyPem: string;
}

/** A service account's or PAT's token; `signer` is its Key credential, needed for mutations. */
export interface TokenIdentity {
  kind: 'token';
  token: string;
  signer?: { credId: string; privateKeyPem: string };
  /** How to name this identity in messages; default derived from the token's claims. */
  label?: string;
  /** What the token is, when the caller knows (a stored secret does): PAT rekey checks whose keys it can sign with. */
  holds?: 'service-account' | 'pat';
}

export interface DfnsClientOptions {
  /** e.g. `https://api.dfns.io` */
  baseUrl: string;
  orgId: string;
  identity: OperatorIdentity | TokenIdentity;
  /** The request budget: Dfns' limit is per org, so every client of the process (or, through Redis, of every replica) must share one. */
  limiter: RequestBudget;
  retry?: Partial<RetryPolicy>;
  /** Per HTTP request, body included. Default 15 s. */
  timeoutMs?: number;
  /** Operator only: log in again this long before the login token's `exp`. Default 2 min. */
  loginRefreshMarginMs?: number;
  clock?: Clock;
  sleep?: Sleep;
  random?: Random;
  logger?: Logger;
  /** Called after every HTTP request (metrics). Never receives secrets. */
  onRequest?: RequestObserver;
}

/** A DfnsPort on the official SDK, with timeouts, retries, rate limiting, validation and login. */
export function createDfnsClient(options: DfnsClientOptions): DfnsPort {
  const problems = checkOptions(options);
  if (problems.length > 0) throw new ConfigError(problems, 'Dfns client options');

  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const runner = new CallRunner({
    limiter: options.limiter,
    clock,
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: resolveRetryPolicy(options.retry),
    logger,
    ...(options.onRequest ? { observer: options.onRequest } : {}),
  });
  const sdk = loadSdk();
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const { identity } = options;

  let tokens: TokenSource;
  let signer: { credId: string; privateKeyPem: string } | undefined;
  let name: string;
  let holds: 'service-account' | 'pat' | undefined;
  if (identity.kind === 'operator') {
    signer = { credId: identity.credId, privateKeyPem: identity.privateKeyPem };
    const authSigner = new KeySigner({ credId: identity.credId, privateKey: identity.privateKeyPem });
    const authenticator = new sdk.sdk.DfnsAuthenticator({ baseUrl, orgId: options.orgId, signer: authSigner });
    tokens = new OperatorSession({
      clock,
      ...(options.loginRefreshMarginMs !== undefined ? { refreshMarginMs: options.loginRefreshMarginMs } : {}),
      login: () =>
        runner.run({
          operation: 'operatorLogin',
          invoke: () => authenticator.login({ username: identity.username, orgId: options.orgId }),
          parse: (raw) => parseAnswer('operatorLogin', loginSchema, raw).token,
        }),
    });
    name = `operator ${identity.username}`;
  } else {
    const token = identity.token;
    tokens = { token: () => Promise.resolve(token) };
    signer = identity.signer;
    name = identity.label ?? describeToken(token);
    holds = identity.holds ?? (readTokenIdentity(token).kind === 'Pat' ? 'pat' : undefined);
  }
  return new SdkDfnsPort({ identity: name, baseUrl, orgId: options.orgId, runner, tokens, sdk, logger, ...(signer ? { signer } : {}), ...(holds ? { holds } : {}) });
}

/** `token ServiceAccount to-…` from the claims, without the token. */
function describeToken(token: string): string {
  const claims = readTokenIdentity(token);
  return `token ${claims.kind ?? 'unknown-kind'} ${claims.tokenId ?? claims.userId ?? claims.subject ?? 'unknown-id'}`;
}

function checkOptions(options: DfnsClientOptions): string[] {
  const problems: string[] = [];
  try {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('baseUrl: must be an http(s) URL');
  } catch {
    problems.push('baseUrl: not a URL');
  }
  if (!nonEmpty(options.orgId)) problems.push('orgId: required');
  if (!options.limiter) problems.push('limiter: required (share one RequestBudget per process)');
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    problems.push(`timeoutMs: must be a number > 0, got ${options.timeoutMs}`);
  }
  const identity = options.identity;
  if (identity?.kind === 'operator') {
    if (!nonEmpty(identity.username)) problems.push('identity.username: required');
    if (!nonEmpty(identity.credId)) problems.push('identity.credId: required');
    problems.push(...checkPrivateKey('identity.privateKeyPem', identity.privateKeyPem));
  } else if (identity?.kind === 'token') {
    if (!nonEmpty(identity.token)) problems.push('identity.token: required');
    if (identity.signer) {
      if (!nonEmpty(identity.signer.credId)) problems.push('identity.signer.credId: required');
      problems.push(...checkPrivateKey('identity.signer.privateKeyPem', identity.signer.privateKeyPem));
    }
  } else {
    problems.push("identity.kind: must be 'operator' or 'token'");
  }
  return problems;
}

function checkPrivateKey(field: string, pem: unknown): string[] {
  if (!nonEmpty(pem)) return [`${field}: required`];
  if (!pem.includes('PRIVATE KEY')) return [`${field}: not a private key PEM`];
  try {
    detectKeyAlgorithm(pem);
    return [];
  } catch (err) {
    return [`${field}: ${err instanceof InvalidKeyError ? err.message : 'unreadable'}`];
  }
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}
