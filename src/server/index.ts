export { createHttpServer, type HttpServer, type HttpServerOptions } from './http-server.js';
export { createApp, type App, type AppOptions } from './app.js';
export { createPrometheusMetrics, observeDfnsRequests, type PrometheusOptions } from './prometheus.js';
export { pingRedis, queuesPaused, readinessFromChecks, workersRunning, type Check, type CheckResult, type Readiness, type ReadinessReport } from './readiness.js';
export { queueHints, type QueueHint } from './dashboard-hints.js';
export { DASHBOARD_PATH } from './dashboard-path.js';
