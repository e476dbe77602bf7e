// The hand-written prom-client peer's two metrics, shared by its middleware on every framework
// (express: apps/prom-client.mjs; koa, node:http: instructions/apps/): a request counter by
// method, route and status and a latency histogram by method and route with django-prometheus's
// buckets, labelled by the route template, as the usual prom-client middleware records them.
import { performance } from 'node:perf_hooks';
import client from 'prom-client';

/** django-prometheus's latency buckets, for every peer's histogram. */
export const DJANGO_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 25, 50, 75];

/** Unmatched URLs share one label: the raw URL would be unbounded cardinality. */
export const UNMATCHED = '<unmatched>';

export const registry = new client.Registry();
const requests = new client.Counter({
  name: 'http_requests_total',
  help: 'Requests by method, route and status.',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});
const latency = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Request latency by method and route.',
  labelNames: ['method', 'route'],
  buckets: DJANGO_BUCKETS,
  registers: [registry],
});

/** One finished request that started at `start` (performance.now() milliseconds). */
export function recordRequest(method, route, status, start) {
  requests.inc({ method, route, status });
  latency.observe({ method, route }, (performance.now() - start) / 1000);
}
