import { randomUUID } from 'node:crypto';

/**
 * Errors as Dfns sends them: `{ error: { id, status, message, details } }`, a fresh `id` each
 * time. Handlers throw `SimHttpError`; the server turns it into the answer. Messages quote Dfns'
 * own wording where it is documented (getting-started/errors.md) and never echo a token or key.
 */
export class SimHttpError extends Error {
  readonly status: number;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'SimHttpError';
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

export interface DfnsErrorBody {
  error: { id: string; status: number; message: string; details: Record<string, unknown> };
}

export function errorBody(status: number, message: string, details: Record<string, unknown> = {}): DfnsErrorBody {
  return { error: { id: randomUUID(), status, message, details } };
}

export const MSG = {
  tokenInvalid: 'user token is missing or invalid',
  userActionInvalid: 'user action signature is missing or invalid',
  userActionUsed: 'user action has already been used',
  challengeInvalid: 'Challenge token is not valid.',
  userNotFound: 'User not found',
  userDeactivated: 'User account has been deactivated.',
  noCredential: 'User does not have a credential that can be used for the application.',
} as const;

export const badRequest = (message: string, details?: Record<string, unknown>) => new SimHttpError(400, message, details);
export const unauthorized = (message: string = MSG.tokenInvalid, details?: Record<string, unknown>) =>
  new SimHttpError(401, message, details);
export const forbidden = (message: string, details?: Record<string, unknown>) => new SimHttpError(403, message, details);
export const notFound = (message: string, details?: Record<string, unknown>) => new SimHttpError(404, message, details);
export const conflict = (message: string, details?: Record<string, unknown>) => new SimHttpError(409, message, details);
