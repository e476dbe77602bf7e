// The best hand-written peer on express: the prom-client middleware of apps/prom-client-metrics.mjs,
// recording each request when its response finishes.
import { performance } from 'node:perf_hooks';
import { createApp, serve } from './app.mjs';
import { recordRequest, registry, UNMATCHED } from './prom-client-metrics.mjs';

function install(app) {
  // Registered before the middleware so scrapes are not counted.
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  });
  app.use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      recordRequest(req.method, req.route ? req.baseUrl + req.route.path : UNMATCHED, res.statusCode, start);
    });
    next();
  });
}

serve(createApp({ install }));
