import type { IncomingMessage, ServerResponse } from 'node:http';
import { contain } from '../contain.js';
import { currentDistribution } from '../state.js';
import { containedEndpoint, type NodeHandler } from './contained-endpoint.js';
import { respondWithMetrics } from './respond.js';
import { sourceOf } from './scrape-source.js';

/** Marks the in-app handler so framework adapters can name its route `prometheus-django-metrics`. */
export const kMetricsHandler = Symbol.for('otel-django-metrics.metrics-handler');

export function isMetricsHandler(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [kMetricsHandler]?: true })[kMetricsHandler] === true;
}

/**
 * The in-app metrics endpoint, for node:http and express (`app.get('/metrics', metricsHandler())`).
 * Its view is `prometheus-django-metrics` whatever the mount path, and its response counts as
 * one non-streaming response of the uncompressed exposition's size.
 */
export function metricsHandler(): NodeHandler {
  const handler = containedEndpoint('metrics handler', (req, res) => {
    const d = currentDistribution();
    if (d === undefined) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('otel-django-metrics is not started\n');
      return;
    }
    // Only the scrape's own request measurement depends on it: a failure drops that, not the scrape.
    const onBody = contain('metrics handler route match', () => d.http.servingMetrics(req));
    respondWithMetrics(sourceOf(d.scrape), req, res, onBody);
  });
  return Object.assign(handler, { [kMetricsHandler]: true as const });
}

/** koa middleware form: `router.get('/metrics', koaMetricsHandler())`. */
export function koaMetricsHandler(): (ctx: { req: IncomingMessage; res: ServerResponse; respond?: boolean }) => void {
  const handler = metricsHandler();
  return Object.assign(
    (ctx: { req: IncomingMessage; res: ServerResponse; respond?: boolean }) => {
      ctx.respond = false; // koa must not write a response of its own
      handler(ctx.req, ctx.res);
    },
    { [kMetricsHandler]: true as const },
  );
}

/** fastify route handler form: `app.get('/metrics', fastifyMetricsHandler())`. */
export function fastifyMetricsHandler(): (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => void {
  const handler = metricsHandler();
  return Object.assign(
    (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => {
      reply.hijack(); // fastify must not send a reply of its own
      handler(request.raw, reply.raw);
    },
    { [kMetricsHandler]: true as const },
  );
}
