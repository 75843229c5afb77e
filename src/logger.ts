import { pino, type Logger, type DestinationStream, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names that may hold a secret. Redaction is the second line of defence; the first is that
 * code passes ids, never secrets, to the logger.
 */
const SECRET_FIELDS = [
  'accessToken',
  'token',
  'authToken',
  'privateKey',
  'privateKeyPem',
  'authorization',
  'userAction',
  'password',
  'secret',
  'webhookUrl',
  'encryptionKey',
];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  'headers.authorization',
  'headers["x-dfns-useraction"]',
  '*.headers.authorization',
  '*.headers["x-dfns-useraction"]',
];

export interface LoggerSettings {
  level?: string;
  name?: string;
  destination?: DestinationStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    name: settings.name ?? 'dfns-rotator',
    level: settings.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** A logger that drops everything: for library code used without one, and for quiet tests. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Shows that a secret exists and which one, without showing it: `eyJhbGci…(812 chars)`. */
export function maskSecret(value: string | undefined | null): string {
  if (!value) return '(none)';
  return `${value.slice(0, Math.min(4, Math.floor(value.length / 4)))}…(${value.length} chars)`;
}

/** Hides the password in a redis://user:pass@host URL. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    // Slack webhook URLs carry their secret in the path.
    if (u.hostname.endsWith('hooks.slack.com')) u.pathname = '/services/***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
