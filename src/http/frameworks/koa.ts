import type { IncomingMessage } from 'node:http';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { contain, safe } from '../../contain.js';
import { onceLogger } from '../../log.js';
import type { HttpRecorder } from '../recorder.js';
import { stateOf } from '../request-state.js';
import { RouterMatches } from './koa-router.js';

/** The parts of koa 2/3 this adapter touches (no type import: koa is optional). */
interface KoaContext {
  req: IncomingMessage;
  onerror(err: unknown): void;
}

interface KoaApplication {
  proxy?: unknown;
  handleRequest(ctx: KoaContext, fnMiddleware: unknown): unknown;
  emit(event: string | symbol, ...args: unknown[]): boolean;
}

type Method = (...args: never[]) => unknown;
type Wrapper = (original: Method) => Method;

const warnOnce = onceLogger();

const KOA_VERSIONS = ['>=2 <4'];

/**
 * The koa adapter, through `@opentelemetry/instrumentation` module hooks (CommonJS `require`; an
 * ES module's import of koa loads the same CommonJS files). On koa's Application: `handleRequest`
 * runs just before the first middleware, so it is TF; each request's `ctx.onerror` (where koa
 * sends every throw or rejection of the middleware chain and every body-stream error) and the app
 * `error` event (also emitted by apps' own error middleware) are its error path, the first error
 * counting. On koa's context prototype: @koa/router's route match (src/http/frameworks/koa-router.ts).
 * Hooks reach the recorder through the request's own state, like the fastify adapter's.
 */
class KoaInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    // This instrumentation emits no telemetry of its own, so its scope version is irrelevant.
    super('otel-django-metrics/koa', '0.0.0', {});
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const routes = new RouterMatches(
      (prototype, method, wrapper) => this._wrap(prototype, method, wrapper),
      (prototype, method) => this._unwrap(prototype, method),
    );
    const context = new InstrumentationNodeModuleFile(
      'koa/lib/context.js',
      KOA_VERSIONS,
      (prototype: object) => {
        routes.watch(prototype);
        return prototype;
      },
      () => routes.stop(),
    );
    return [this.definition('koa', KOA_VERSIONS, { handleRequest: wrapHandleRequest, emit: wrapEmit }, [context])];
  }

  /**
   * A module whose exported class (CommonJS `module.exports`, or an ESM `default`) gets prototype
   * methods wrapped. Every patched prototype is remembered: an app can load two copies of koa,
   * and `disable` must restore them all.
   */
  private definition(name: string, versions: string[], wrappers: Record<string, Wrapper>, files: InstrumentationNodeModuleFile[]): InstrumentationNodeModuleDefinition {
    const patched = new Set<Record<string, Method>>();
    const patch = (exports: unknown): unknown => {
      contain(`koa adapter patch of ${name}`, () => {
        const cls = typeof exports === 'function' ? exports : (exports as { default?: unknown } | null)?.default;
        const proto = (cls as { prototype?: Record<string, Method> } | undefined)?.prototype;
        if (typeof cls !== 'function' || proto === undefined) return;
        for (const [method, wrapper] of Object.entries(wrappers)) {
          if (typeof proto[method] === 'function') this._wrap(proto, method, wrapper);
          else warnOnce(`${name}.${method}`, `koa adapter: ${name} has no ${method} to hook; its metrics will be incomplete`);
        }
        patched.add(proto);
      });
      return exports;
    };
    const unpatch = (): void => {
      for (const proto of patched) {
        for (const method of Object.keys(wrappers)) if (isWrapped(proto[method])) this._unwrap(proto, method);
      }
      patched.clear();
    };
    return new InstrumentationNodeModuleDefinition(name, versions, patch, unpatch, files);
  }
}

/**
 * One instrumentation per process, re-enabled by a restarted distribution: its module hooks stay
 * registered and `enable` re-patches the classes already loaded, which a new instance could not.
 */
let instrumentation: KoaInstrumentation | undefined;

export function enableKoaAdapter(_recorder: HttpRecorder): () => void {
  if (instrumentation === undefined) instrumentation = new KoaInstrumentation();
  else instrumentation.enable();
  const enabled = instrumentation;
  return () => enabled.disable();
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

const observeError = safe('koa error path', (ctx: unknown, err: unknown) => {
  const req = (ctx as Partial<KoaContext> | null | undefined)?.req;
  if (req !== undefined) stateOf(req)?.recorder.error(req, err);
});
