// The best hand-written peer: a prom-client counter by method/route/status and a latency
// histogram by method/route with django-prometheus's buckets, labelled by the route template.
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { createApp, serve } from './app.mjs';

const DJANGO_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 25, 50, 75];

const registry = new client.Registry();
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

function install(app) {
  // Registered before the middleware so scrapes are not counted.
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  });
  app.use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      // Unmatched URLs share one label: the raw URL would be unbounded cardinality.
      const route = req.route ? req.baseUrl + req.route.path : '<unmatched>';
      requests.inc({ method: req.method, route, status: res.statusCode });
      latency.observe({ method: req.method, route }, (performance.now() - start) / 1000);
    });
    next();
  });
}

serve(createApp({ install }));
