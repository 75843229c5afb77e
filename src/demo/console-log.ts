import type { DestinationStream } from 'pino';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const SHOWN_FIELDS = ['queue', 'secretName', 'rotationId', 'newCredentialId', 'identity', 'tick', 'url', 'err', 'total', 'rotationsQueued'];

/**
 * A pino destination that prints one readable line per entry for the demo's terminal:
 * `10:42:07 info  rotation succeeded  rotationId=01J… newCredentialId=us-…`. The daemon itself
 * logs JSON (for log pipelines); this is only for a person watching the demo.
 */
export function consoleLines(write: (line: string) => void, minLevel = 30): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          write(line);
          continue;
        }
        const level = Number(entry.level ?? 30);
        if (level < minLevel) continue;
        const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
        const fields = SHOWN_FIELDS.filter((k) => entry[k] !== undefined && entry[k] !== null).map((k) => `${k}=${typeof entry[k] === 'object' ? JSON.stringify(entry[k]) : String(entry[k])}`);
        write(`${time} ${LEVELS[level] ?? level} ${String(entry.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}`);
      }
    },
  };
}
