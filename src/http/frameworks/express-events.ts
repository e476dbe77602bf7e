import type { IncomingMessage, ServerResponse } from 'node:http';
import { safe } from '../../contain.js';
import { isMetricsHandler } from '../../exposition/handler.js';
import { METRICS_VIEW } from '../labels.js';
import { stateOf } from '../request-state.js';
import { routeTemplate, type RouteLike } from './express-mounts.js';

/**
 * express events -> recorder calls. Each reaches the recorder through the request's own state,
 * so requests the distribution does not track cost one property read. The wrappers that call
 * these run them inside the containment primitive.
 */

/** The parts of an express 4/5 application used here. */
export interface ExpressApp {
  get(setting: string): unknown;
}

/** TF: `app.handle`. The recorder ignores nested apps' entries. */
export function enterApp(app: ExpressApp, req: IncomingMessage): void {
  const state = stateOf(req);
  if (state !== undefined) state.recorder.enter(req, 'express', state.headers.forwardedHttps && trustsProxy(app, req));
}

/**
 * express's own proxy decision, as `req.protocol` makes it. It only matters when a forwarded
 * https is to be trusted, so the trust function runs only then.
 */
function trustsProxy(app: ExpressApp, req: IncomingMessage): boolean {
  const trust = app.get('trust proxy fn');
  return typeof trust === 'function' && Boolean((trust as (addr: unknown, i: number) => unknown)(req.socket?.remoteAddress, 0));
}

/** A route layer dispatches: the route matched. The last match before completion wins (recorder). */
export function matchRoute(req: IncomingMessage, route: RouteLike): void {
  const state = stateOf(req);
  if (state !== undefined) state.recorder.routeMatched(state, servesMetrics(route) ? METRICS_VIEW : routeTemplate(req, route));
}

const kServesMetrics = Symbol('otel-django-metrics.express.serves-metrics');

/** Whether the route's handlers include the metrics handler; remembered per route until its stack changes. */
function servesMetrics(route: RouteLike & { [kServesMetrics]?: { layers: number; serves: boolean } }): boolean {
  const known = route[kServesMetrics];
  if (known !== undefined && known.layers === route.stack.length) return known.serves;
  const serves = route.stack.some((layer) => isMetricsHandler(layer.handle));
  route[kServesMetrics] = { layers: route.stack.length, serves };
  return serves;
}

/** `res.render(name, ...)`: a response-bound render (the recorder keeps the first). */
export function render(res: ServerResponse, name: unknown): void {
  const req = res.req as IncomingMessage | undefined;
  if (req !== undefined) stateOf(req)?.recorder.render(req, String(name));
}

/** An error reached express's error path (the recorder keeps the first, before completion). */
export function observeError(req: IncomingMessage, err: unknown): void {
  // 'route' and 'router' are routing signals, and falsy values no error, to express.
  if (!err || err === 'route' || err === 'router') return;
  stateOf(req)?.recorder.error(req, err);
}

/**
 * The outermost router's final callback sees errors no later layer took (express answers them
 * with its final handler). Wrapped whether or not the request is tracked: a closure costs less
 * than looking the state up on the reprototyped request, which `observeError` does only on error.
 */
export function observingFinalErrors<F extends (...args: never[]) => unknown>(req: IncomingMessage, callback: F): F {
  return function (this: unknown, ...args: unknown[]) {
    onFinalError(req, args[0]);
    return (callback as unknown as (...a: unknown[]) => unknown).apply(this, args);
  } as unknown as F;
}

const onFinalError = safe('express final error callback', observeError);
