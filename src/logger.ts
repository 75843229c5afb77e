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
  // Vault AppRole's secret id (a credential); log a secret's name as `secretName`.
  'secretId',
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
