import type { IncomingMessage } from 'node:http';
import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { safe } from '../../contain.js';
import { onceLogger } from '../../log.js';
import type { HttpRecorder } from '../recorder.js';
import { stateOf } from '../request-state.js';
import { reusedInstrumentation } from './reused-instrumentation.js';
import { AdapterInstrumentation } from './adapter-instrumentation.js';
import type { Method } from './wrapped-methods.js';

/** The parts of a hapi 21 request this adapter reads (no type import: hapi is optional). */
interface HapiRequest {
  raw: { req: IncomingMessage };
  route: { method: string; path: string };
  response: HapiResponse | null | symbol;
}

/** A response object, or an error (Boom, or an Error hapi boomified) when `isBoom`. */
interface HapiResponse {
  isBoom?: boolean;
  message?: string;
  data?: unknown;
  variety?: string;
  source?: { template?: unknown } | null;
}

interface Toolkit {
  continue: symbol;
}

type Ext = (request: HapiRequest, h: Toolkit) => symbol;

interface HapiServer {
  ext(event: 'onRequest' | 'onPreResponse', method: Ext): void;
}

/** hapi's Core: one per root server; `_defaultRoutes` runs once, in `Hapi.server()`, after `root` is set. */
interface HapiCore {
  root: HapiServer;
  _defaultRoutes(): void;
}


const warnOnce = onceLogger();

const HAPI_VERSIONS = ['>=21 <22'];

/** hapi's own routes (not-found, bad request, CORS preflight) have this method: no route matched. */
const SPECIAL = '_special';

/** What hapi answers instead of a thrown non-Error; the thrown value is kept as its `data`. */
const NON_ERROR_THROWN = 'Cannot throw non-error object';

/**
 * The hapi 21 adapter, through `@opentelemetry/instrumentation` module hooks on hapi's Core
 * (`@hapi/hapi/lib/core.js`): when `Hapi.server()` builds a root server, two server extensions are
 * added to it before the app can add any, so they run first, for every route, plugins' included.
 * TF = `onRequest`. `onPreResponse` (after the handler, for every answered request) records the
 * route match, the error (a Boom response, by the class of the error hapi wrapped) and a
 * `@hapi/vision` template. The extensions outlive this adapter (hapi cannot remove them), so they
 * reach the recorder through the request's own state: after `disable` they count nothing.
 */
class HapiInstrumentation extends AdapterInstrumentation {
  constructor() {
    super('hapi');
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    const wrapped = this.wrappedMethods();
    const core = new InstrumentationNodeModuleFile(
      '@hapi/hapi/lib/core.js',
      HAPI_VERSIONS,
      (exports: unknown) => {
        const proto = (exports as { prototype?: Record<string, Method> } | null)?.prototype;
        if (typeof proto?._defaultRoutes !== 'function') {
          warnOnce('hapi core', 'hapi adapter: @hapi/hapi has no Core._defaultRoutes to hook; hapi requests will have no routing-level metrics');
          return exports;
        }
        wrapped.wrap(proto, '_defaultRoutes', wrapDefaultRoutes);
        return exports;
      },
      () => wrapped.restore(),
    );
    return [new InstrumentationNodeModuleDefinition('@hapi/hapi', HAPI_VERSIONS, undefined, undefined, [core])];
  }
}

const enable = reusedInstrumentation(() => new HapiInstrumentation());

export function enableHapiAdapter(_recorder: HttpRecorder): () => void {
  return enable();
}

/*
 * The wrapper runs hapi's own code first, outside containment, then the adapter's step inside it;
 * each extension returns `h.continue` whatever happened inside its step.
 */

function wrapDefaultRoutes(original: Method): Method {
  const defaultRoutes = original as unknown as HapiCore['_defaultRoutes'];
  return function (this: HapiCore) {
    defaultRoutes.call(this);
    addExtensions(this);
  };
}

const addExtensions = safe('hapi adapter server extensions', (core: HapiCore) => {
  core.root.ext('onRequest', onRequest);
  core.root.ext('onPreResponse', onPreResponse);
});

function onRequest(request: HapiRequest, h: Toolkit): symbol {
  enter(request);
  return h.continue;
}

const enter = safe('hapi adapter onRequest', (request: HapiRequest) => {
  const req = request.raw.req;
  // hapi has no proxy-trust setting of its own: the transport follows PROMETHEUS_TRUST_PROXY alone.
  stateOf(req)?.recorder.enter(req, 'hapi');
});

function onPreResponse(request: HapiRequest, h: Toolkit): symbol {
  respond(request);
  return h.continue;
}

const respond = safe('hapi adapter onPreResponse', (request: HapiRequest) => {
  const req = request.raw.req;
  const state = stateOf(req);
  if (state === undefined) return;
  const { recorder } = state;
  const route = request.route;
  // Without a route (hapi's not-found route answered) nothing matched and no view raised: no exception.
  if (route.method === SPECIAL) return;
  // A view named in the handler (setViewName) was named after the route matched, so it stays.
  if (state.view === undefined) recorder.routeMatched(state, route.path);
  const response = request.response;
  if (response === null || typeof response !== 'object') return;
  if (response.isBoom === true) recorder.error(req, response.message === NON_ERROR_THROWN ? response.data : response);
  else if (response.variety === 'view' && typeof response.source?.template === 'string') recorder.render(req, response.source.template);
});
