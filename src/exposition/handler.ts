import type { IncomingMessage, ServerResponse } from 'node:http';
import { contain } from '../contain.js';
import { logLine, type Logger } from '../log.js';
import { Invalid } from '../settings.js';
import { currentDistribution } from '../state.js';
import { accessOf, admitted, parseSecret, type Access } from './auth.js';
import { containedEndpoint, type NodeHandler } from './contained-endpoint.js';
import { respondWithMetrics } from './respond.js';
import { sourceOf } from './scrape-source.js';

/** Marks the in-app handler so framework adapters can name its route `prometheus-django-metrics`. */
export const kMetricsHandler = Symbol.for('otel-django-metrics.metrics-handler');

export function isMetricsHandler(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [kMetricsHandler]?: true })[kMetricsHandler] === true;
}

/** Credentials an in-app handler requires instead of the PROMETHEUS_METRICS_AUTH_* settings. */
export interface MetricsHandlerOptions {
  /** A bearer token: `Authorization: Bearer <token>`. */
  token?: string;
  /** `user:password` for Basic authentication. */
  basic?: string;
}

/**
 * The handler's own access when `options` names a credential, else `undefined` (it follows the
 * settings). A named credential must be valid, a present one without a value included (a secret
 * the app failed to load): otherwise one line, and the handler refuses every request.
 */
export function handlerAccess(options: MetricsHandlerOptions | null | undefined, log: Logger): Access | undefined {
  if (typeof options !== 'object' || options === null || (!('token' in options) && !('basic' in options))) return undefined;
  return accessOf(
    (key, parse) => {
      if (!(key in options)) return undefined;
      const value: unknown = options[key];
      const invalid = (reason: string) => `invalid metricsHandler option ${key} (${reason})`;
      if (typeof value !== 'string') throw new Invalid(invalid(value === undefined ? 'no value' : 'not a string'));
      return parseSecret(parse, value, invalid);
    },
    (problem) => log(`${problem.message}; this handler refuses every request`),
  );
}

/**
 * The in-app metrics endpoint, for node:http and express (`app.get('/metrics', metricsHandler())`).
 * Its view is `prometheus-django-metrics` whatever the mount path, and its response counts as
 * one non-streaming response of the uncompressed exposition's size. It requires the credentials
 * of the PROMETHEUS_METRICS_AUTH_* settings, or those of `options` when given (they win); a
 * refused scrape is the app's 401 (or 403) response and counts as one, under the same view.
 */
export function metricsHandler(options?: MetricsHandlerOptions): NodeHandler {
  const own = handlerAccess(options, logLine);
  const handler = containedEndpoint('metrics handler', (req, res) => {
    const d = currentDistribution();
    const access = own ?? d?.config.endpoint.access;
    // Only the scrape's own request measurement depends on it: a failure drops that, not the scrape.
    const onBody = d === undefined ? undefined : contain('metrics handler route match', () => d.http.servingMetrics(req));
    if (access !== undefined && !admitted(access, req, res)) return;
    if (d === undefined) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('otel-django-metrics is not started\n');
      return;
    }
    respondWithMetrics(sourceOf(d.scrape), req, res, onBody);
  });
  return Object.assign(handler, { [kMetricsHandler]: true as const });
}

/** koa middleware form: `router.get('/metrics', koaMetricsHandler())`. */
export function koaMetricsHandler(options?: MetricsHandlerOptions): (ctx: { req: IncomingMessage; res: ServerResponse; respond?: boolean }) => void {
  const handler = metricsHandler(options);
  return Object.assign(
    (ctx: { req: IncomingMessage; res: ServerResponse; respond?: boolean }) => {
      ctx.respond = false; // koa must not write a response of its own
      handler(ctx.req, ctx.res);
    },
    { [kMetricsHandler]: true as const },
  );
}

/** fastify route handler form: `app.get('/metrics', fastifyMetricsHandler())`. */
export function fastifyMetricsHandler(
  options?: MetricsHandlerOptions,
): (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => void {
  const handler = metricsHandler(options);
  return Object.assign(
    (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => {
      reply.hijack(); // fastify must not send a reply of its own
      handler(request.raw, reply.raw);
    },
    { [kMetricsHandler]: true as const },
  );
}
