import express, { type Router } from 'express';
import type { Logger } from '../logger.js';
import type { Readiness } from './readiness.js';

export interface HealthState {
  shuttingDown: boolean;
}

export interface HealthDeps {
  readiness: Readiness;
  state: HealthState;
  logger: Logger;
  /**
   * Whether `/livez` fails once shutting down. Off by default: under Kubernetes a failing liveness
   * probe during the grace period gets the container killed before a rotation step finishes.
   */
  livezFailsWhenShuttingDown?: boolean;
}

/** `/livez` and `/readyz`: no authentication (probes carry none), no secrets in the answers. */
export function healthRoutes(deps: HealthDeps): Router {
  const router = express.Router();
  router.get('/livez', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (deps.state.shuttingDown && deps.livezFailsWhenShuttingDown) return res.status(503).json({ live: false, shuttingDown: true });
    res.json({ live: true });
  });
  router.get('/readyz', async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if (deps.state.shuttingDown) return res.status(503).json({ ready: false, shuttingDown: true, checks: {} });
    try {
      const checks = await deps.readiness();
      const ready = Object.values(checks).every((c) => c.ok);
      res.status(ready ? 200 : 503).json({ ready, checks });
    } catch (err) {
      deps.logger.warn({ err }, 'readiness function failed');
      res.status(503).json({ ready: false, checks: {}, error: 'readiness check failed' });
    }
  });
  return router;
}
