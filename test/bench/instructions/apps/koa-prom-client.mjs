// The hand-written prom-client peer on koa: the express peer's metrics
// (test/bench/apps/prom-client-metrics.mjs) in koa's usual form, a first middleware that records
// once the rest of the chain has resolved (no response listener: the response is written after),
// labelled by @koa/router's matched route template.
import { performance } from 'node:perf_hooks';
import { recordRequest, UNMATCHED } from '../../apps/prom-client-metrics.mjs';
import { serveKoa } from './koa-app.mjs';

serveKoa({
  install: (app) => app.use(async (ctx, next) => {
    const start = performance.now();
    await next();
    recordRequest(ctx.method, ctx._matchedRoute ?? UNMATCHED, ctx.status, start);
  }),
});
