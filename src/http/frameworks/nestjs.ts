import { IncomingMessage } from 'node:http';
import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { safe } from '../../contain.js';
import { onceLogger } from '../../log.js';
import type { HttpRecorder } from '../recorder.js';
import { stateOf } from '../request-state.js';
import { reusedInstrumentation } from './reused-instrumentation.js';
import { AdapterInstrumentation } from './adapter-instrumentation.js';
import type { Method } from './wrapped-methods.js';

/** The parts of @nestjs/core 10/11 this adapter touches (no type import: Nest is optional). */
interface ArgumentsHost {
  getArgByIndex(index: number): unknown;
}

/** The handler Nest builds per route, middleware and its not-found route: every HTTP exception passes its `next`. */
interface ExceptionsHandler {
  next(exception: unknown, host: ArgumentsHost): void;
}

type Prototype = Record<string, Method>;

const warnOnce = onceLogger();

const NEST_VERSIONS = ['>=10 <12'];

/** The exceptions handlers of Nest's not-found route: a request no route matched, never an exception (Django's Resolver404). */
const notFoundHandlers = new WeakSet<object>();
/** Set while Nest registers its not-found route, whose exceptions handler is created then. */
let registeringNotFound = false;

/**
 * The NestJS 10/11 adapter, through `@opentelemetry/instrumentation` module hooks on @nestjs/core
 * (CommonJS; an ES module's import loads the same files). Nest registers its routes on the
 * express or fastify instance it runs on, so their adapters see TF and the route match (the view:
 * global prefix, URI version, controller and method paths). Nest answers every exception a route
 * handler, guard, pipe, interceptor or Nest middleware raises itself, through an
 * `ExceptionsHandler` (@nestjs/core/exceptions/exceptions-handler.js), before any exception filter
 * of the app's sees it: so the framework's own error path never does, and `ExceptionsHandler.next`
 * is where the error counts, whatever filter answers it. Nest's not-found route throws a
 * `NotFoundException` through a handler of its own: that one is a request no route matched, and
 * counts no exception (its handler is marked when `RoutesResolver.registerNotFoundHandler` has
 * `RouterExceptionFilters.create` make it).
 */
class NestInstrumentation extends AdapterInstrumentation {
  constructor() {
    super('nestjs');
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const files = [
      this.file('exceptions/exceptions-handler.js', 'ExceptionsHandler', 'next', wrapNext),
      this.file('router/routes-resolver.js', 'RoutesResolver', 'registerNotFoundHandler', wrapRegisterNotFoundHandler),
      this.file('router/router-exception-filters.js', 'RouterExceptionFilters', 'create', wrapCreate),
    ];
    return [new InstrumentationNodeModuleDefinition('@nestjs/core', NEST_VERSIONS, undefined, undefined, files)];
  }

  /** A file of @nestjs/core exporting class `name`, whose prototype's `method` is wrapped; every patched prototype is restored by `disable`. */
  private file(path: string, name: string, method: string, wrapper: (original: Method) => Method): InstrumentationNodeModuleFile {
    const wrapped = this.wrappedMethods();
    return new InstrumentationNodeModuleFile(
      `@nestjs/core/${path}`,
      NEST_VERSIONS,
      (exports: unknown) => {
        const proto = (exports as Record<string, { prototype?: Prototype } | undefined> | null)?.[name]?.prototype;
        if (typeof proto?.[method] !== 'function') {
          warnOnce(`${name}.${method}`, `NestJS adapter: @nestjs/core has no ${name}.${method} to hook; NestJS exceptions will not be counted exactly`);
          return exports;
        }
        wrapped.wrap(proto, method, wrapper);
        return exports;
      },
      () => wrapped.restore(),
    );
  }
}

const enable = reusedInstrumentation(() => new NestInstrumentation());

export function enableNestAdapter(_recorder: HttpRecorder): () => void {
  return enable();
}

/*
 * Each wrapper runs Nest's own code outside the containment primitive, with Nest's arguments and
 * result, and the adapter's step inside it.
 */

function wrapNext(original: Method): Method {
  const next = original as unknown as ExceptionsHandler['next'];
  return function (this: ExceptionsHandler, exception: unknown, host: ArgumentsHost) {
    observeException(this, exception, host);
    return next.call(this, exception, host);
  };
}

/**
 * The request is the host's first argument: the express request (an IncomingMessage), fastify's
 * request (its `raw`), or the IncomingMessage itself for a Nest middleware on fastify.
 */
const observeException = safe('NestJS adapter ExceptionsHandler.next', (handler: ExceptionsHandler, exception: unknown, host: ArgumentsHost) => {
  if (notFoundHandlers.has(handler)) return;
  const request = host.getArgByIndex(0) as { raw?: unknown } | null | undefined;
  const req = request instanceof IncomingMessage ? request : request?.raw;
  if (req instanceof IncomingMessage) stateOf(req)?.recorder.error(req, exception);
});

function wrapRegisterNotFoundHandler(original: Method): Method {
  const register = original as unknown as (this: unknown) => unknown;
  return function (this: unknown) {
    registeringNotFound = true;
    try {
      return register.call(this);
    } finally {
      registeringNotFound = false;
    }
  };
}

function wrapCreate(original: Method): Method {
  const create = original as unknown as (this: unknown, ...args: unknown[]) => ExceptionsHandler;
  return function (this: unknown, ...args: unknown[]) {
    const handler = create.apply(this, args);
    if (registeringNotFound) markNotFound(handler);
    return handler;
  };
}

const markNotFound = safe('NestJS adapter not-found route', (handler: unknown) => {
  if (typeof handler === 'object' && handler !== null) notFoundHandlers.add(handler);
});
