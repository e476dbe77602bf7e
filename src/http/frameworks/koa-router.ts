import type { IncomingMessage } from 'node:http';
import { contain, safe } from '../../contain.js';
import { isMetricsHandler } from '../../exposition/handler.js';
import { onceLogger } from '../../log.js';
import { METRICS_VIEW } from '../labels.js';
import { stateOf } from '../request-state.js';
import type { Method, WrappedMethods } from './wrapped-methods.js';

const warnOnce = onceLogger();

/** The parts of an @koa/router layer and context this module reads (no type import: koa is optional). */
interface RouterLayer {
  methods: string[];
  stack: unknown[];
}

interface RoutedContext {
  req: IncomingMessage;
  _matchedRoute?: string | RegExp;
}

type RouterPrototype = Record<string, Method>;

/** Where the accessor keeps each context's `router`. */
const kRouter = Symbol('otel-django-metrics.koa-router');
type Carrier = { [kRouter]?: unknown };

/**
 * @koa/router's route match, without hooking @koa/router's module (its ES module build could only
 * be patched through the ESM loader). A router's dispatch sets `ctx.router = router` right before
 * it matches; an accessor for `router` on koa's own context prototype (CommonJS) sees each router,
 * and the first time a Router class shows up its prototype's `_setMatchedRouteInfo` is wrapped:
 * the moment @koa/router 15 has matched and set `ctx._matchedRoute`. An app that loads both of its
 * bundles has two Router classes; every patched one is unwrapped by `stop`.
 */
export class RouterMatches {
  /** Context prototypes given the accessor: once each, never removed. */
  readonly #watched = new WeakSet<object>();
  #active = false;
  /** The router `#seen` last looked at (its class is patched, or unsupported and warned about). */
  #last: unknown = undefined;

  /** `@koa/router` Router prototypes wrapped so far. */
  constructor(private readonly wrapped: WrappedMethods) {}

  /**
   * Starts watching the contexts made from koa's context prototype. The accessor stays after
   * `stop` (in-flight contexts keep their `router` in it); while stopped, it only stores.
   */
  watch(contextPrototype: object): void {
    this.#active = true;
    if (this.#watched.has(contextPrototype)) return;
    if (Object.getOwnPropertyDescriptor(contextPrototype, 'router') !== undefined) {
      warnOnce('accessor', 'koa adapter: koa context already defines router; @koa/router routes will be <unnamed view>');
      return;
    }
    this.#watched.add(contextPrototype);
    const seen = (router: unknown): void => this.#seen(router);
    Object.defineProperty(contextPrototype, 'router', {
      configurable: true,
      get(this: Carrier) {
        return this[kRouter];
      },
      set(this: Carrier, router: unknown) {
        this[kRouter] = router;
        seen(router);
      },
    });
  }

  stop(): void {
    this.#active = false;
    this.#last = undefined;
    this.wrapped.restore();
  }

  #seen(router: unknown): void {
    // An app dispatches through the same few routers request after request: the last one seen
    // needs no prototype lookup.
    if (router === this.#last || !this.#active || typeof router !== 'object' || router === null) return;
    this.#last = router;
    contain('koa adapter ctx.router accessor', () => {
      const prototype = Object.getPrototypeOf(router) as RouterPrototype | null;
      if (prototype === null || this.wrapped.has(prototype)) return;
      if (typeof prototype._setMatchedRouteInfo !== 'function') {
        warnOnce('unsupported', 'koa adapter: ctx.router has no _setMatchedRouteInfo (@koa/router 15 has); its routes are <unnamed view>');
        return;
      }
      this.wrapped.wrap(prototype, '_setMatchedRouteInfo', wrapSetMatchedRouteInfo);
    });
  }
}

function wrapSetMatchedRouteInfo(original: Method): Method {
  const setMatchedRouteInfo = original as unknown as (this: unknown, ctx: RoutedContext, matchedLayers: RouterLayer[]) => unknown;
  return function (this: unknown, ctx: RoutedContext, matchedLayers: RouterLayer[]) {
    const result = setMatchedRouteInfo.call(this, ctx, matchedLayers);
    observeRouteMatch(ctx, matchedLayers);
    return result;
  };
}

/**
 * Called right after @koa/router has chosen the matched layers for a request and set
 * `ctx._matchedRoute` (prefix included) from the last one with methods: the route match.
 * The view is that template, or `prometheus-django-metrics` when that route serves the in-app
 * metrics handler.
 */
const observeRouteMatch = safe('koa adapter @koa/router route match', (ctx: RoutedContext, matchedLayers: readonly RouterLayer[]) => {
  const route = ctx._matchedRoute;
  const state = stateOf(ctx.req);
  if (route === undefined || state === undefined) return;
  state.recorder.routeMatched(state, servesMetrics(matchedLayers) ? METRICS_VIEW : String(route));
});

function servesMetrics(matchedLayers: readonly RouterLayer[]): boolean {
  for (let i = matchedLayers.length - 1; i >= 0; i--) {
    const layer = matchedLayers[i]!;
    if (layer.methods.length > 0) return layer.stack.some(isMetricsHandler);
  }
  return false;
}
