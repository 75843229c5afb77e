/** Most requests started in one fixed minute (the simulator's window, aligned to the epoch minute) and in any sliding 60 s. */
export function peaks(times: number[]): { fixedMinute: number; slidingMinute: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const perMinute = new Map<number, number>();
  for (const t of sorted) perMinute.set(Math.floor(t / 60_000), (perMinute.get(Math.floor(t / 60_000)) ?? 0) + 1);
  let sliding = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= 60_000) lo++;
    sliding = Math.max(sliding, hi - lo + 1);
  }
  return { fixedMinute: Math.max(0, ...perMinute.values()), slidingMinute: sliding };
}
