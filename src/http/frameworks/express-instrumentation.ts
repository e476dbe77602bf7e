import type { IncomingMessage, ServerResponse } from 'node:http';
import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain, safe } from '../../contain.js';
import { onceLogger } from '../../log.js';
import { enterApp, matchRoute, observeError, observingFinalErrors, render, type ExpressApp } from './express-events.js';
import { enterLayer, enterRouter, prepareRequest, tagMountLayers, tagRoute, type RouteLike, type RouterLike } from './express-mounts.js';
import { AdapterInstrumentation } from './adapter-instrumentation.js';
import type { Method, Wrapper } from './wrapped-methods.js';

const warnOnce = onceLogger();


/**
 * One object of a module's exports and the methods wrapped on it. Each method is given by its
 * names, first existing one wrapped: router 2 renamed express 4's `handle_request`/`handle_error`.
 */
interface Part {
  target(exports: unknown): object | undefined;
  methods: Array<[names: string[], wrapper: Wrapper]>;
}

/** A module's main object: CommonJS `module.exports`, or the `default` of an ESM namespace. */
function main(exports: unknown): { [key: string]: unknown } | undefined {
  const m = typeof exports === 'function' ? exports : (exports as { default?: unknown } | null)?.default;
  return typeof m === 'function' ? (m as unknown as { [key: string]: unknown }) : undefined;
}

const prototypeOf = (exports: unknown): object | undefined => main(exports)?.prototype as object | undefined;

/**
 * The express adapter's patches, all on prototypes shared by every app, all cheap:
 * - TF: `app.handle` (express 4/5).
 * - templatename: `res.render` (express 4/5).
 * - route match: `Route#dispatch`, plus registration-time tags from `Router#use`/`Router#route`
 *   and one property write per `use()` layer run (`Layer#handleRequest`) to know the mount patterns.
 * - errors: `Layer#handleError` (every error passed down the stack reaches it while a layer is
 *   left) and the outermost `Router#handle` callback (errors that reach express's final handler).
 * Express 5's router is the `router` package; express 4 has its own in `express/lib/router/`.
 */
export class ExpressInstrumentation extends AdapterInstrumentation {
  constructor() {
    super('express');
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const application: Part = { target: (e) => main(e)?.application as object | undefined, methods: [[['handle'], wrapAppHandle]] };
    const response: Part = { target: (e) => main(e)?.response as object | undefined, methods: [[['render'], wrapRender]] };
    const routerMethods: Part['methods'] = [
      [['handle'], wrapRouterHandle],
      [['use'], wrapRouterUse],
      [['route'], wrapRouterRoute],
    ];
    const route: Part = { target: prototypeOf, methods: [[['dispatch'], wrapRouteDispatch]] };
    const layer: Part = {
      target: prototypeOf,
      methods: [
        [['handleRequest', 'handle_request'], wrapLayerHandleRequest],
        [['handleError', 'handle_error'], wrapLayerHandleError],
      ],
    };
    const express4 = ['>=4.0.0 <5'];
    const router2 = ['>=2.0.0 <3'];
    return [
      this.definition('express', ['>=4.0.0 <6'], [application, response], [
        // express 4's router module exports the router prototype itself.
        this.file('express/lib/router/index.js', express4, [{ target: main, methods: routerMethods }]),
        this.file('express/lib/router/route.js', express4, [route]),
        this.file('express/lib/router/layer.js', express4, [layer]),
      ]),
      this.definition('router', router2, [{ target: prototypeOf, methods: routerMethods }], [
        this.file('router/lib/route.js', router2, [route]),
        this.file('router/lib/layer.js', router2, [layer]),
      ]),
    ];
  }

  private definition(name: string, versions: string[], parts: Part[], files: InstrumentationNodeModuleFile[]): InstrumentationNodeModuleDefinition {
    const { patch, unpatch } = this.patcher(name, parts);
    return new InstrumentationNodeModuleDefinition(name, versions, patch, unpatch, files);
  }

  private file(name: string, versions: string[], parts: Part[]): InstrumentationNodeModuleFile {
    const { patch, unpatch } = this.patcher(name, parts);
    return new InstrumentationNodeModuleFile(name, versions, patch, unpatch);
  }

  /**
   * Patch/unpatch for a module. Wrapping is idempotent (an ESM import can report a module to both
   * module hooks), and every patched object is remembered so that `disable` restores them all.
   */
  private patcher(name: string, parts: Part[]): { patch: (exports: unknown) => unknown; unpatch: () => void } {
    const wrapped = this.wrappedMethods();
    const patch = (exports: unknown): unknown => {
      for (const part of parts) {
        contain(`express adapter patch of ${name}`, () => {
          const target = part.target(exports) as Record<string, Method> | undefined;
          if (target === undefined) {
            warnOnce(name, `express adapter: unexpected exports of ${name}; its metrics will be incomplete`);
            return;
          }
          for (const [names, wrapper] of part.methods) {
            const method = names.find((n) => typeof target[n] === 'function');
            if (method === undefined) {
              warnOnce(`${name}.${names[0]}`, `express adapter: ${name} has no ${names.join('/')} to hook; its metrics will be incomplete`);
              continue;
            }
            wrapped.wrap(target, method, wrapper);
          }
        });
      }
      return exports;
    };
    return { patch, unpatch: () => wrapped.restore() };
  }
}

type Next = (err?: unknown) => void;

/*
 * Each wrapper runs the adapter's step inside the containment primitive, then express's own
 * method outside it, with the app's arguments (or, for the final callback, an observing one).
 */

const onAppHandle = safe('express app.handle', (app: ExpressApp, req: IncomingMessage) => {
  prepareRequest(req);
  enterApp(app, req);
});
const onRender = safe('express res.render', render);
const finalCallback = safe('express router.handle', (router: RouterLike, req: IncomingMessage, callback: Next): Next =>
  enterRouter(router, req) && typeof callback === 'function' ? observingFinalErrors(req, callback) : callback,
);
const onUse = safe('express router.use', tagMountLayers);
const onRoute = safe('express router.route', (router: object, route: unknown) => {
  if (route !== null && typeof route === 'object') tagRoute(router, route);
});
const onDispatch = safe('express route.dispatch', matchRoute);
const onLayer = safe('express layer.handleRequest', enterLayer);
const onLayerError = safe('express layer.handleError', observeError);

function wrapAppHandle(original: Method): Method {
  const handle = original as unknown as (this: ExpressApp, req: IncomingMessage, res: ServerResponse, callback?: Next) => unknown;
  return function (this: ExpressApp, req: IncomingMessage, res: ServerResponse, callback?: Next) {
    onAppHandle(this, req);
    return handle.call(this, req, res, callback);
  } as unknown as Method;
}

function wrapRender(original: Method): Method {
  const renderMethod = original as unknown as (this: ServerResponse, ...args: unknown[]) => unknown;
  return function (this: ServerResponse, ...args: unknown[]) {
    onRender(this, args[0]);
    return renderMethod.apply(this, args);
  } as unknown as Method;
}

function wrapRouterHandle(original: Method): Method {
  const handle = original as unknown as (this: RouterLike, req: IncomingMessage, res: ServerResponse, callback: Next) => unknown;
  return function (this: RouterLike, req: IncomingMessage, res: ServerResponse, callback: Next) {
    return handle.call(this, req, res, finalCallback(this, req, callback) ?? callback);
  } as unknown as Method;
}

function wrapRouterUse(original: Method): Method {
  const use = original as unknown as (this: RouterLike, ...args: unknown[]) => unknown;
  return function (this: RouterLike, ...args: unknown[]) {
    const from = this.stack?.length;
    const result = use.apply(this, args);
    if (from !== undefined) onUse(this, from, args);
    return result;
  } as unknown as Method;
}

function wrapRouterRoute(original: Method): Method {
  const route = original as unknown as (this: object, ...args: unknown[]) => unknown;
  return function (this: object, ...args: unknown[]) {
    const result = route.apply(this, args);
    onRoute(this, result);
    return result;
  } as unknown as Method;
}

function wrapRouteDispatch(original: Method): Method {
  const dispatch = original as unknown as (this: RouteLike, req: IncomingMessage, res: ServerResponse, done: Next) => unknown;
  return function (this: RouteLike, req: IncomingMessage, res: ServerResponse, done: Next) {
    onDispatch(req, this);
    return dispatch.call(this, req, res, done);
  } as unknown as Method;
}

function wrapLayerHandleRequest(original: Method): Method {
  const handleRequest = original as unknown as (this: object, req: IncomingMessage, res: ServerResponse, next: Next) => unknown;
  return function (this: object, req: IncomingMessage, res: ServerResponse, next: Next) {
    onLayer(this, req);
    return handleRequest.call(this, req, res, next);
  } as unknown as Method;
}

function wrapLayerHandleError(original: Method): Method {
  const handleError = original as unknown as (this: object, error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => unknown;
  return function (this: object, error: unknown, req: IncomingMessage, res: ServerResponse, next: Next) {
    onLayerError(req, error);
    return handleError.call(this, error, req, res, next);
  } as unknown as Method;
}
