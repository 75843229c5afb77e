/**
 * When a call that got a 401 may be sent again with a new credential. A user action is
 * single-use and Dfns may have spent it even when it answers 401, so a signed mutation is sent
 * again only if the 401 came from the signing steps themselves (`/auth/action/init`,
 * `/auth/action`: no user action existed yet). A call that never asked the signer (a GET) is
 * always safe to repeat.
 */
const SIGNING_PATHS = new Set(['/auth/action/init', '/auth/action']);

/** The SDK's `DfnsError` (by shape: errors may come from another copy of the SDK) with status 401. */
export function isUnauthorized(err: unknown): boolean {
  return !!err && typeof err === 'object' && (err as { httpStatus?: unknown }).httpStatus === 401;
}

export function isRetryAfter401(err: unknown, signerWasAsked: boolean): boolean {
  if (!isUnauthorized(err)) return false;
  if (!signerWasAsked) return true;
  return SIGNING_PATHS.has(failedPath(err) ?? '');
}

function failedPath(err: unknown): string | undefined {
  const url = (err as { context?: { url?: unknown } }).context?.url;
  if (typeof url !== 'string' || url === '') return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
