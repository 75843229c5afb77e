import express, { type Router } from 'express';
import type { Clock } from '../clock.js';
import { describeError } from '../errors.js';
import type { RotationRecord } from '../jobs/core/rotation-types.js';
import type { ScanPage, StoredScan } from '../jobs/state/scan-results.js';
import type { Logger } from '../logger.js';
import { renderInventoryPage } from './inventory-page.js';

export interface InventoryDeps {
  /** One page (0-based) of the last scan; a loader without pages returns the whole scan. */
  loadInventory: (page: number) => Promise<ScanPage | StoredScan | null>;
  loadRecentRotations?: () => Promise<RotationRecord[]>;
  clock: Clock;
  logger: Logger;
}

interface Loaded {
  scan: ScanPage | StoredScan | null;
  rotations?: RotationRecord[];
  error?: string;
}

/** `/inventory` (HTML) and `/api/inventory` (JSON), from the stored last scan: reads only. */
export function inventoryRoutes(deps: InventoryDeps): Router {
  const router = express.Router();

  async function load(page: number): Promise<Loaded> {
    try {
      const [scan, rotations] = await Promise.all([deps.loadInventory(page), deps.loadRecentRotations?.()]);
      return rotations ? { scan, rotations } : { scan };
    } catch (err) {
      deps.logger.warn({ err }, 'inventory could not be loaded');
      return { scan: null, error: describeError(err).slice(0, 300) };
    }
  }

  /** `?page=N`, 1-based as people count; the stored scan's pages are 0-based. */
  function pageOf(query: unknown): number | null {
    const raw = (query as Record<string, unknown>).page;
    if (raw === undefined) return 0;
    const n = typeof raw === 'string' && /^[1-9][0-9]{0,6}$/.test(raw) ? Number(raw) : NaN;
    return Number.isInteger(n) ? n - 1 : null;
  }
  const BAD_PAGE = 'page: must be a whole number from 1 (e.g. ?page=2)';

  router.get('/inventory', async (req, res) => {
    const page = pageOf(req.query);
    if (page === null) return res.status(400).type('text').send(BAD_PAGE);
    const loaded = await load(page);
    const now = deps.clock.now();
    const html = renderInventoryPage({
      scan: loaded.scan,
      now,
      ...(loaded.rotations ? { rotations: loaded.rotations } : {}),
      ...(loaded.error ? { loadError: loaded.error } : {}),
    });
    res.status(loaded.error ? 503 : 200).type('html').send(html);
  });

  router.get('/api/inventory', async (req, res) => {
    const page = pageOf(req.query);
    if (page === null) return res.status(400).json({ error: BAD_PAGE });
    const loaded = await load(page);
    if (loaded.error) return res.status(503).json({ error: `could not read the last scan: ${loaded.error}` });
    const paged = loaded.scan && 'page' in loaded.scan ? loaded.scan.page : null;
    const pageInfo = paged
      ? { number: paged.index + 1, pages: paged.count, pageSize: paged.size, next: paged.index + 1 < paged.count ? `/api/inventory?page=${paged.index + 2}` : null }
      : undefined;
    res.json({ generatedAt: deps.clock.now(), scan: loaded.scan, ...(pageInfo ? { page: pageInfo } : {}), ...(loaded.rotations ? { recentRotations: loaded.rotations } : {}) });
  });
  return router;
}
