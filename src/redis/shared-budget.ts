import { realSleep, systemClock, type Clock, type Sleep } from '../clock.js';
import { RateLimiter } from '../dfns/rate-limiter.js';
import { budgetShape, type BudgetShape, type BudgetStats, type RequestBudget } from '../dfns/request-budget.js';
import type { RedisClient } from './connection.js';
import { Turns } from '../dfns/turns.js';

/**
 * One Dfns request budget per org across every daemon on one Redis: a paced token bucket (GCRA,
 * the generic cell rate algorithm) with AIMD backoff, in one Redis hash updated atomically by a
 * Lua script. It lives here, not in src/dfns, because it is Redis: src/dfns defines the
 * `RequestBudget` port and this adapter gets the daemon's existing ioredis connection injected.
 *
 * GCRA keeps one "theoretical arrival time" (tat): a request may start when tat - (burst - 1) ×
 * interval <= now, and moves tat on by one interval. Any 60 s then holds at most burst - 1 +
 * ⌈60 s / interval⌉ starts; with interval = 60 s / (N - burst) that is under N: `burst` back to
 * back and the rest one interval apart, the budget paced over the minute, never spent in a burst
 * at its start. (60 s / (N - burst + 1) would allow exactly N, and N + 1 when rounding lands a
 * start on the window's last millisecond: measured, so not used.)
 *
 * Time is the callers' clock (passed in, so tests drive it; daemons' clocks are NTP-synced like
 * their cron schedules). The script's one key is under the configured prefix, whose `{hash tag}`
 * keeps it on one Redis Cluster slot with every other key of the daemon.
 */
const ACQUIRE = `
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local recover = tonumber(ARGV[3])
local burstShare = tonumber(ARGV[4])
local maxBurst = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'at', 'paused')
local tat = tonumber(s[1]) or now
local rate = tonumber(s[2]) or max
local at = tonumber(s[3]) or now
local paused = tonumber(s[4]) or 0
if rate > max then rate = max end
if now > at then
  if rate < max then rate = math.min(max, rate + recover * (now - at) / 60000) end
  at = now
end
local whole = math.max(1, math.floor(rate))
local burst = math.max(1, math.min(maxBurst, math.floor(whole * burstShare)))
local interval = 60000 / math.max(1, whole - burst)
if tat < now then tat = now end
local wait = math.max(tat - (burst - 1) * interval - now, paused - now)
if wait > 0 then
  redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'at', tostring(at))
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {0, tostring(wait), tostring(rate)}
end
redis.call('HSET', KEYS[1], 'tat', tostring(tat + interval), 'rate', tostring(rate), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, '0', tostring(rate)}
`;

/** A 429: halve the budget, unless the request started before the last halving (that burst is already counted). */
const THROTTLE = `
local now = tonumber(ARGV[1])
local startedAt = tonumber(ARGV[2])
local retryAfter = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local min = tonumber(ARGV[5])
local recover = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'rate', 'at', 'cut', 'paused', 'throttled')
local rate = tonumber(s[1]) or max
local at = tonumber(s[2]) or now
local cut = tonumber(s[3]) or -1
local paused = tonumber(s[4]) or 0
local throttled = (tonumber(s[5]) or 0) + 1
if rate > max then rate = max end
if now > at then
  if rate < max then rate = math.min(max, rate + recover * (now - at) / 60000) end
  at = now
end
local halved = 0
if startedAt >= cut then
  rate = math.max(min, math.floor(rate / 2))
  cut = now
  halved = 1
end
if retryAfter > 0 then paused = math.max(paused, now + retryAfter) end
redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'at', tostring(at), 'cut', tostring(cut), 'paused', tostring(paused), 'throttled', tostring(throttled))
redis.call('PEXPIRE', KEYS[1], ttl)
return {halved, tostring(rate), throttled}
`;

/** State idle this long is dropped: the next request starts from the full configured budget. */
const STATE_TTL_MS = 6 * 3_600_000;

type BudgetCommands = {
  dfnsBudgetAcquire(key: string, ...args: (string | number)[]): Promise<[number, string, string]>;
  dfnsBudgetThrottle(key: string, ...args: (string | number)[]): Promise<[number, string, number]>;
};

function withCommands(redis: RedisClient): RedisClient & BudgetCommands {
  const r = redis as RedisClient & Partial<BudgetCommands>;
  // defineCommand loads the script once per connection (EVALSHA, falling back to EVAL).
  if (typeof r.dfnsBudgetAcquire !== 'function') redis.defineCommand('dfnsBudgetAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  if (typeof r.dfnsBudgetThrottle !== 'function') redis.defineCommand('dfnsBudgetThrottle', { numberOfKeys: 1, lua: THROTTLE });
  return redis as RedisClient & BudgetCommands;
}

export interface SharedBudgetOptions {
  redis: RedisClient;
  /** The configured prefix (`{dfns-rotator}`): the key is `<prefix>:dfns-budget:<orgId>`. */
  prefix: string;
  orgId: string;
  requestsPerMinute: number;
  clock?: Clock;
  sleep?: Sleep;
}

export function sharedBudgetKey(prefix: string, orgId: string): string {
  return `${prefix}:dfns-budget:${orgId}`;
}

/**
 * The shared budget. Callers in one process are served first come, first served (one promise
 * chain, as in the in-process limiter), so one process asks Redis once per request plus once per
 * wait, not once per waiting caller.
 */
export class SharedRequestBudget implements RequestBudget {
  readonly key: string;
  readonly shape: BudgetShape;
  readonly #redis: RedisClient & BudgetCommands;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #turns = new Turns();
  #granted = 0;
  #throttled = 0;
  #current: number;
  /** Used once the Redis connection is closed for good (a port that outlived its runtime): the same share, in this process. */
  readonly #fallback: RateLimiter;

  constructor(options: SharedBudgetOptions) {
    this.shape = budgetShape(options.requestsPerMinute);
    this.key = sharedBudgetKey(options.prefix, options.orgId);
    this.#redis = withCommands(options.redis);
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? realSleep;
    this.#current = this.shape.perMinute;
    this.#fallback = new RateLimiter({ requestsPerMinute: options.requestsPerMinute, clock: this.#clock, sleep: this.#sleep });
  }

  /** The connection was ended (`quit()`/`disconnect()`): ioredis will not bring it back. */
  #closed(err?: unknown): boolean {
    return this.#redis.status === 'end' || (err instanceof Error && err.message === 'Connection is closed.');
  }

  acquire(): Promise<number> {
    return this.#turns.take(() => this.#take());
  }

  async throttled(event: { startedAt: number; retryAfterMs?: number }): Promise<void> {
    this.#throttled += 1;
    if (this.#closed()) return this.#fallback.throttled(event);
    const { perMinute, minPerMinute, recoverPerMinute } = this.shape;
    let rate: string;
    try {
      [, rate] = await this.#redis.dfnsBudgetThrottle(this.key, this.#clock.now(), event.startedAt, Math.max(0, Math.ceil(event.retryAfterMs ?? 0)), perMinute, minPerMinute, recoverPerMinute, STATE_TTL_MS);
    } catch (err) {
      if (this.#closed(err)) return this.#fallback.throttled(event);
      throw err;
    }
    this.#current = Number(rate);
  }

  stats(): BudgetStats {
    return { configuredPerMinute: this.shape.perMinute, currentPerMinute: Math.floor(this.#current), granted: this.#granted, waiting: this.#turns.waiting, throttled: this.#throttled };
  }

  async #take(): Promise<number> {
    const { perMinute, recoverPerMinute, burstShare, maxBurst } = this.shape;
    for (;;) {
      if (this.#closed()) return this.#fallback.acquire();
      const now = this.#clock.now();
      let answer: [number, string, string];
      try {
        answer = await this.#redis.dfnsBudgetAcquire(this.key, now, perMinute, recoverPerMinute, burstShare, maxBurst, STATE_TTL_MS);
      } catch (err) {
        if (this.#closed(err)) return this.#fallback.acquire();
        throw err;
      }
      const [granted, wait, rate] = answer;
      this.#current = Number(rate);
      if (granted === 1) {
        this.#granted += 1;
        return now;
      }
      await this.#sleep(Math.max(1, Math.ceil(Number(wait))));
    }
  }
}
