import type { InventoryItem } from './model.js';

/**
 * What the worker reports for `/metrics`. The prom-client implementation lives in
 * src/server/prometheus.ts; jobs and the Dfns client only see this interface, and tests pass
 * `noMetrics`.
 */
export interface Metrics {
  /** Replaces the expiry gauges with the scan's inventory (credentials that vanished are removed). */
  credentialsScanned(items: readonly InventoryItem[], finishedAt: number): void;
  rotationFinished(outcome: 'succeeded' | 'rolled-back' | 'failed' | 'parked', kind: InventoryItem['kind'], strategy: string): void;
  rotationStep(step: string, seconds: number): void;
  /** One HTTP request to Dfns, by templated route (`/auth/service-accounts/:id`) and status (or `error`). */
  dfnsRequest(method: string, route: string, status: number | 'timeout' | 'network', seconds: number): void;
  notification(type: string, outcome: 'delivered' | 'retrying' | 'failed' | 'rate-limited'): void;
  /** Secrets the last scan could not read from the store (damaged files). */
  storeUnreadable(count: number): void;
}

export const noMetrics: Metrics = {
  credentialsScanned: () => {},
  rotationFinished: () => {},
  rotationStep: () => {},
  dfnsRequest: () => {},
  notification: () => {},
  storeUnreadable: () => {},
};
