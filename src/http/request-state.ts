import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRecorder } from './recorder.js';

/** Where a request's state hangs: on both the request and its response, so either hook finds it. */
export const kState = Symbol('otel-django-metrics.request');

/**
 * Everything the recorder learns about one request, in one object with a stable shape, so
 * that the ~17 measurements of a request are made from plain fields at a few points in time.
 * Reading this object is cheap; reading the request or response often is not: express gives
 * each request and response a new prototype, hence a new hidden class, so every property read
 * on them after that misses V8's inline caches (a runtime lookup of hundreds of instructions).
 * So what the request says is copied here at dispatch, and hooks look the state up once.
 */
export class RequestState {
  /** Framework entry time (TF); starts as T0 and moves when a framework takes the request. */
  tf: number;
  /** Set once the routing-level request families (#7-#9, #11) have been counted. */
  entered = false;
  framework: string | undefined = undefined;
  /** The matched view; `undefined` until a route match. */
  view: string | undefined = undefined;
  /** The transport counted at TF, reused for the per-view request family. */
  transport: 'http' | 'https' = 'http';
  rendered = false;
  errored = false;
  done = false;
  /** The first Content-Length the app set, or -1. */
  contentLength = -1;
  /** Body bytes passed to write/end while no Content-Length is known (only then are they the size). */
  bytes = 0;
  streaming = false;

  constructor(
    /** The recorder that counts this request, so one shared `close` listener can complete it. */
    readonly recorder: HttpRecorder,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** Server dispatch time (T0), `performance.now()` milliseconds. */
    readonly t0: number,
    /** The request method as received. */
    readonly rawMethod: string,
    /** The request method as labels carry it (sanitised), worked out once. */
    readonly method: string,
    /** What the request's headers say, read once at dispatch: later reads may meet an app's getter. */
    readonly headers: RequestHeaders,
  ) {
    this.tf = t0;
  }
}

/** The request headers the families need. */
export interface RequestHeaders {
  /** `X-Requested-With: XMLHttpRequest`. */
  readonly ajax: boolean;
  /** The request's `Content-Length` (0 when absent or malformed). */
  readonly bodySize: number;
  /** The first `X-Forwarded-Proto` is https (used only when a proxy is trusted). */
  readonly forwardedHttps: boolean;
  /** The connection is TLS. */
  readonly encrypted: boolean;
}

type Carrier = { [kState]?: RequestState };

/**
 * The state last attached or found. Most requests are routed and answered without giving the
 * event loop away, so the hooks of one request mostly ask about the request they last asked
 * about: an identity comparison then answers instead of a property read on a reprototyped
 * request or response (see `RequestState`).
 */
let recent: RequestState | undefined;

export function stateOf(reqOrRes: IncomingMessage | ServerResponse): RequestState | undefined {
  if (recent !== undefined && (recent.req === reqOrRes || recent.res === reqOrRes)) return recent;
  const state = (reqOrRes as Carrier)[kState];
  if (state !== undefined) recent = state;
  return state;
}

export function attachState(state: RequestState): void {
  (state.req as Carrier)[kState] = state;
  (state.res as Carrier)[kState] = state;
  recent = state;
}
