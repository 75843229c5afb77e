import express, { type Router } from 'express';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { RotationRecord } from '../jobs/rotation-types.js';
import type { StoredScan } from '../jobs/scan-results.js';
import type { Logger } from '../logger.js';
import { renderInventoryPage } from './inventory-page.js';

export interface InventoryDeps {
  loadInventory: () => Promise<StoredScan | null>;
  loadRecentRotations?: () => Promise<RotationRecord[]>;
  clock: Clock;
  logger: Logger;
}

interface Loaded {
  scan: StoredScan | null;
  rotations?: RotationRecord[];
  error?: string;
}

/** `/inventory` (HTML) and `/api/inventory` (JSON), from the stored last scan: reads only. */
export function inventoryRoutes(deps: InventoryDeps): Router {
  const router = express.Router();

  async function load(): Promise<Loaded> {
    try {
      const [scan, rotations] = await Promise.all([deps.loadInventory(), deps.loadRecentRotations?.()]);
      return rotations ? { scan, rotations } : { scan };
    } catch (err) {
      deps.logger.warn({ err }, 'inventory could not be loaded');
      return { scan: null, error: describeError(err).slice(0, 300) };
    }
  }

  router.get('/inventory', async (_req, res) => {
    const loaded = await load();
    const now = deps.clock.now();
    const html = renderInventoryPage({
      scan: loaded.scan,
      now,
      ...(loaded.rotations ? { rotations: loaded.rotations } : {}),
      ...(loaded.error ? { loadError: loaded.error } : {}),
    });
    res.status(loaded.error ? 503 : 200).type('html').send(html);
  });

  router.get('/api/inventory', async (_req, res) => {
    const loaded = await load();
    if (loaded.error) return res.status(503).json({ error: `could not read the last scan: ${loaded.error}` });
    res.json({ generatedAt: deps.clock.now(), scan: loaded.scan, ...(loaded.rotations ? { recentRotations: loaded.rotations } : {}) });
  });
  return router;
}
