import { Gauge, type Registry } from 'prom-client';
import { pendingRetirements, type PendingRetirement } from '../jobs/core/retire-facts.js';
import type { RotationStore } from '../jobs/state/rotation-store.js';

/** Rotation records read per scrape: the recent ones, which hold every retirement still pending. */
const RECENT_ROTATIONS = 500;

/**
 * Replaced credentials waiting to be retired, read from the rotation records at scrape time
 * (bounded by `timeoutMs`: a slow Redis leaves them out of that scrape, it never hangs it):
 *   dfns_rotator_credential_retire_timestamp_seconds  when the old credential is retired (absent when held)
 *   dfns_rotator_credential_last_use_timestamp_seconds its last signed action after promotion, per Dfns' audit log
 *   dfns_rotator_credential_retire_state               1 for the usage check's verdict (pending, in-use, held, not-visible, …)
 */
export function registerRetireMetrics(registry: Registry, rotations: Pick<RotationStore, 'recent'>, timeoutMs: number): void {
  let inFlight: Promise<PendingRetirement[] | null> | null = null;
  const read = (): Promise<PendingRetirement[] | null> => {
    inFlight ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
        timer.unref();
      });
      try {
        return await Promise.race([rotations.recent(RECENT_ROTATIONS).then(pendingRetirements, () => null), timeout]);
      } finally {
        clearTimeout(timer);
        inFlight = null;
      }
    })();
    return inFlight;
  };
  const labelNames = ['kind', 'id', 'name', 'secret', 'rotation'] as const;
  const labels = (p: PendingRetirement) => ({ kind: p.kind, id: p.credentialId, name: p.name, secret: p.secretName, rotation: p.rotationId });

  new Gauge({
    name: 'dfns_rotator_credential_retire_timestamp_seconds',
    help: 'When each replaced credential is retired (Unix seconds); moves out while its consumers still sign with it. Absent when held for a person.',
    labelNames,
    registers: [registry],
    async collect() {
      const pending = await read();
      this.reset();
      for (const p of pending ?? []) if (p.retireAt !== null) this.set(labels(p), p.retireAt / 1000);
    },
  });
  new Gauge({
    name: 'dfns_rotator_credential_last_use_timestamp_seconds',
    help: "Last signed action of each replaced credential after its replacement was promoted, per Dfns' audit log (reads are not logged). Absent when none was seen.",
    labelNames,
    registers: [registry],
    async collect() {
      const pending = await read();
      this.reset();
      for (const p of pending ?? []) if (p.lastUseAt !== null) this.set(labels(p), p.lastUseAt / 1000);
    },
  });
  new Gauge({
    name: 'dfns_rotator_credential_retire_state',
    help: 'The usage check of each replaced credential not yet retired: 1 for pending (overlap running), in-use, held (a person decides), not-visible (no Auth:Logs:Read), forced or off.',
    labelNames: [...labelNames, 'state'] as const,
    registers: [registry],
    async collect() {
      const pending = await read();
      this.reset();
      for (const p of pending ?? []) this.set({ ...labels(p), state: p.usage }, 1);
    },
  });
}
