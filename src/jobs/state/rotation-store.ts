import type { RedisClient } from '../../redis/connection.js';
import { RotatorError } from '../../errors.js';
import { isInFlight } from '../core/rotation-machine.js';
import type { RotationRecord } from '../core/rotation-types.js';

/**
 * The secret's rotation in flight (see `isInFlight`), or null: the one the active pointer names,
 * unless its record ended, moved on to retirement or expired.
 */
export async function rotationInFlight(rotations: Pick<RotationStore, 'active' | 'get'>, secretName: string): Promise<RotationRecord | null> {
  const activeId = await rotations.active(secretName);
  const record = activeId ? await rotations.get(activeId) : null;
  return record && isInFlight(record) ? record : null;
}

/** Another worker saved this rotation since it was read: this worker must stop and let that one go on. */
export class RotationConflictError extends RotatorError {
  constructor(rotationId: string, expected: number) {
    super('ROTATION_CONFLICT', `rotation ${rotationId} was changed by another worker (expected revision ${expected}); stopping this run`);
  }
}

/**
 * Rotation records in Redis (ids and steps only, see rotation-types.ts), saved with
 * compare-and-set on `revision`, plus the "active rotation" pointer per secret that keeps
 * at most one rotation of a secret alive at a time.
 */
export interface RotationStore {
  get(rotationId: string): Promise<RotationRecord | null>;
  /** Saves `record` if the stored revision equals `record.revision` (0: must not exist). Returns it with revision + 1. */
  save(record: RotationRecord): Promise<RotationRecord>;
  /** The rotation currently alive for a secret, if any. */
  active(secretName: string): Promise<string | null>;
  /**
   * Makes `rotationId` (driven by job `jobId`) the active rotation of the secret unless another is;
   * returns the holder and the job that claimed it.
   */
  claimActive(secretName: string, rotationId: string, jobId: string): Promise<{ rotationId: string; jobId: string }>;
  /** Clears the pointer if it still names `rotationId`. */
  releaseActive(secretName: string, rotationId: string): Promise<void>;
  /** Most recent first. */
  recent(limit: number): Promise<RotationRecord[]>;
}

const SAVE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local expected = tonumber(ARGV[2])
if current then
  local rev = cjson.decode(current)['revision']
  if rev ~= expected then return -1 end
elseif expected ~= 0 then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
`;

// The pointer holds "<rotationId> <jobId>"; release only if it still names this rotation.
const RELEASE_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then return redis.call('DEL', KEYS[1]) end
return 0
`;

function parseHolder(value: string | null): { rotationId: string; jobId: string } | null {
  if (!value) return null;
  const [rotationId = '', jobId = ''] = value.split(' ');
  return { rotationId, jobId };
}

/** Records are kept this long after their last change (the audit stream keeps the story longer). */
const RECORD_TTL_SECONDS = 400 * 86_400;

export function redisRotationStore(redis: RedisClient, prefix: string): RotationStore {
  const recordKey = (id: string) => `${prefix}:rotation:${id}`;
  const indexKey = `${prefix}:rotations`;
  const activeKey = (secret: string) => `${prefix}:active-rotation:${secret}`;
  const parse = (text: string | null) => (text ? (JSON.parse(text) as RotationRecord) : null);

  return {
    async get(rotationId) {
      return parse(await redis.get(recordKey(rotationId)));
    },
    async save(record) {
      const next = { ...record, revision: record.revision + 1 };
      const ok = await redis.eval(SAVE_SCRIPT, 2, recordKey(record.rotationId), indexKey, JSON.stringify(next), record.revision, record.createdAt, record.rotationId);
      if (ok !== 1) throw new RotationConflictError(record.rotationId, record.revision);
      await redis.expire(recordKey(record.rotationId), RECORD_TTL_SECONDS);
      return next;
    },
    async active(secretName) {
      return parseHolder(await redis.get(activeKey(secretName)))?.rotationId ?? null;
    },
    async claimActive(secretName, rotationId, jobId) {
      await redis.set(activeKey(secretName), `${rotationId} ${jobId}`, 'NX');
      return parseHolder(await redis.get(activeKey(secretName))) ?? { rotationId, jobId };
    },
    async releaseActive(secretName, rotationId) {
      await redis.eval(RELEASE_SCRIPT, 1, activeKey(secretName), rotationId);
    },
    async recent(limit) {
      const ids = await redis.zrevrange(indexKey, 0, Math.max(0, limit - 1));
      if (ids.length === 0) return [];
      const texts = await redis.mget(...ids.map(recordKey));
      return texts.map(parse).filter((r): r is RotationRecord => r !== null);
    },
  };
}
