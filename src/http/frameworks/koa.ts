import type { IncomingMessage } from 'node:http';
import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain, safe } from '../../contain.js';
import { onceLogger } from '../../log.js';
import type { HttpRecorder } from '../recorder.js';
import { stateOf } from '../request-state.js';
import { RouterMatches } from './koa-router.js';
import { RenderCalls } from './koa-views.js';
import { reusedInstrumentation } from './reused-instrumentation.js';
import { AdapterInstrumentation } from './adapter-instrumentation.js';
import type { Method, Wrapper } from './wrapped-methods.js';

/** The parts of koa 2/3 this adapter touches (no type import: koa is optional). */
interface KoaContext {
  req: IncomingMessage;
  onerror(err: unknown): void;
}

interface KoaApplication {
  proxy?: unknown;
  middleware: unknown[];
  use(middleware: unknown): unknown;
  handleRequest(ctx: KoaContext, fnMiddleware: unknown): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}


const warnOnce = onceLogger();

const KOA_VERSIONS = ['>=2 <4'];

/**
 * The koa adapter, through `@opentelemetry/instrumentation` module hooks (CommonJS `require`; an
 * ES module's import of koa loads the same CommonJS files). On koa's Application: `handleRequest`
 * runs just before the first middleware, so it is TF; each request's `ctx.onerror` (where koa
 * sends every throw or rejection of the middleware chain and every body-stream error), the app
 * `error` event (also emitted by apps' own error middleware) and the throw or rejection of every
 * middleware after the first (`use`, below) are its error path, the first error counting. On koa's
 * context prototype: @koa/router's route match (src/http/frameworks/koa-router.ts) and koa-views'
 * `ctx.render` (src/http/frameworks/koa-views.ts).
 * Hooks reach the recorder through the request's own state, like the fastify adapter's.
 */
class KoaInstrumentation extends AdapterInstrumentation {
  constructor() {
    super('koa');
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const routes = new RouterMatches(this.wrappedMethods());
    const renders = new RenderCalls();
    const context = new InstrumentationNodeModuleFile(
      'koa/lib/context.js',
      KOA_VERSIONS,
      (prototype: object) => {
        routes.watch(prototype);
        renders.watch(prototype);
        return prototype;
      },
      () => {
        routes.stop();
        renders.stop();
      },
    );
    return [this.definition('koa', KOA_VERSIONS, { handleRequest: wrapHandleRequest, emit: wrapEmit, use: wrapUse }, [context])];
  }

  /**
   * A module whose exported class (CommonJS `module.exports`, or an ESM `default`) gets prototype
   * methods wrapped; `disable` restores every copy of koa the app loaded.
   */
  private definition(name: string, versions: string[], wrappers: Record<string, Wrapper>, files: InstrumentationNodeModuleFile[]): InstrumentationNodeModuleDefinition {
    const wrapped = this.wrappedMethods();
    const patch = (exports: unknown): unknown => {
      contain(`koa adapter patch of ${name}`, () => {
        const cls = typeof exports === 'function' ? exports : (exports as { default?: unknown } | null)?.default;
        const proto = (cls as { prototype?: Record<string, Method> } | undefined)?.prototype;
        if (typeof cls !== 'function' || proto === undefined) return;
        for (const [method, wrapper] of Object.entries(wrappers)) {
          if (typeof proto[method] === 'function') wrapped.wrap(proto, method, wrapper);
          else warnOnce(`${name}.${method}`, `koa adapter: ${name} has no ${method} to hook; its metrics will be incomplete`);
        }
      });
      return exports;
    };
    return new InstrumentationNodeModuleDefinition(name, versions, patch, () => wrapped.restore(), files);
  }
}

const enable = reusedInstrumentation(() => new KoaInstrumentation());

export function enableKoaAdapter(_recorder: HttpRecorder): () => void {
  return enable();
}

/*
 * Each wrapper runs the adapter's step inside the containment primitive, then koa's own code
 * outside it, with the app's arguments.
 */

function wrapHandleRequest(original: Method): Method {
  const handleRequest = original as unknown as KoaApplication['handleRequest'];
  return function (this: KoaApplication, ctx: KoaContext, fnMiddleware: unknown) {
    enter(this, ctx);
    return handleRequest.call(this, ctx, fnMiddleware);
  };
}

const enter = safe('koa application.handleRequest', (app: KoaApplication, ctx: KoaContext) => {
  const recorder = stateOf(ctx.req)?.recorder;
  if (recorder === undefined) return;
  // koa's `ctx.protocol` trusts X-Forwarded-Proto exactly when `app.proxy` is truthy.
  recorder.enter(ctx.req, 'koa', Boolean(app.proxy));
  ctx.onerror = observedOnerror;
});

/** Set on each request's ctx; shared, so it costs no closure. Sees the thrown value before koa wraps non-errors. */
function observedOnerror(this: KoaContext, err: unknown): void {
  if (err !== null && err !== undefined) observeError(this, err); // koa calls it with null on success
  return (Object.getPrototypeOf(this) as KoaContext).onerror.call(this, err);
}

function wrapEmit(original: Method): Method {
  const emit = original as unknown as KoaApplication['emit'];
  return function (this: KoaApplication, event: string | symbol, ...args: unknown[]) {
    if (event === 'error') observeError(args[1], args[0]); // emit('error', err, ctx)
    return emit.call(this, event, ...args);
  };
}

/*
 * An error an app's own middleware catches (try/catch around `await next()`) and answers, without
 * emitting it, never reaches koa's error path; Django counts it all the same, in `process_exception`,
 * whatever answers it. So each middleware the app adds after its first is wrapped: its throw or
 * rejection is observed on its way up, then passes on unchanged. An error thrown anywhere below the
 * first middleware is thus counted once, at the innermost boundary it crosses (a router's handler
 * errors at the router's middleware), even if a middleware above catches it; the app `error` event
 * and `ctx.onerror` count what no boundary saw. The first middleware is left bare: nothing in the
 * chain is above it to catch its errors, which reach `ctx.onerror`, so an app with one middleware
 * (its router) pays nothing. Errors a middleware catches within itself (a router's own try/catch
 * middleware around its handlers) are seen only if the app emits them.
 */
function wrapUse(original: Method): Method {
  const use = original as unknown as KoaApplication['use'];
  return function (this: KoaApplication, middleware: unknown) {
    return use.call(this, observesErrors(this, middleware) ? observedMiddleware(middleware as Middleware) : middleware);
  };
}

type Middleware = (this: unknown, ctx: KoaContext, next: unknown) => unknown;

const observesErrors = (app: KoaApplication, middleware: unknown): boolean =>
  contain('koa application.use', () => typeof middleware === 'function' && !isGenerator(middleware) && app.middleware.length > 0) === true;

/** koa 2 converts generator middleware by their type: they keep it. */
function isGenerator(fn: object): boolean {
  return Object.prototype.toString.call(fn) === '[object GeneratorFunction]';
}

function observedMiddleware(middleware: Middleware): Middleware {
  return function (this: unknown, ctx: KoaContext, next: unknown) {
    let result: unknown;
    try {
      result = middleware.call(this, ctx, next);
    } catch (err) {
      observeError(ctx, err);
      throw err;
    }
    if (!(result instanceof Promise)) return result;
    return result.then(undefined, (err: unknown) => {
      observeError(ctx, err);
      throw err;
    });
  };
}

const observeError = safe('koa error path', (ctx: unknown, err: unknown) => {
  const req = (ctx as Partial<KoaContext> | null | undefined)?.req;
  if (req !== undefined) stateOf(req)?.recorder.error(req, err);
});
