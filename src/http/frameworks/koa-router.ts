import type { IncomingMessage } from 'node:http';
import { isMetricsHandler } from '../../exposition/handler.js';
import { onceLogger } from '../../log.js';
import { METRICS_VIEW } from '../labels.js';
import { stateOf } from '../request-state.js';

const warnOnce = onceLogger();

/** The parts of an @koa/router layer and context this module reads (no type import: koa is optional). */
export interface RouterLayer {
  methods: string[];
  stack: unknown[];
}

export interface RoutedContext {
  req: IncomingMessage;
  _matchedRoute?: string | RegExp;
}

/**
 * Called right after @koa/router has chosen the matched layers for a request and set
 * `ctx._matchedRoute` (prefix included) from the last one with methods: the route match.
 * The view is that template, or `prometheus-django-metrics` when that route serves the in-app
 * metrics handler. Never throws into the router.
 */
export function observeRouteMatch(ctx: RoutedContext, matchedLayers: readonly RouterLayer[]): void {
  try {
    const route = ctx._matchedRoute;
    const recorder = stateOf(ctx.req)?.recorder;
    if (route === undefined || recorder === undefined) return;
    recorder.matchRoute(ctx.req, servesMetrics(matchedLayers) ? METRICS_VIEW : String(route));
  } catch (err) {
    warnOnce('match', `koa adapter: route match hook failed: ${String(err)}`);
  }
}

function servesMetrics(matchedLayers: readonly RouterLayer[]): boolean {
  for (let i = matchedLayers.length - 1; i >= 0; i--) {
    const layer = matchedLayers[i]!;
    if (layer.methods.length > 0) return layer.stack.some(isMetricsHandler);
  }
  return false;
}
