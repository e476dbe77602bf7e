import { Server as HttpServer, type IncomingMessage } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { stateOf } from './request-state.js';

/**
 * Plain node:http apps have no framework error path: their error is a throw from the `request`
 * listener or a rejection of the promise it returns (metrics.md section 2, error). Wrapping each
 * `request` listener at registration lets us observe both, then re-raise them unchanged.
 * The wrapper carries `.listener`, like `once` wrappers, so removeListener/listeners() see the
 * original function.
 */
const kPatched = Symbol.for('otel-django-metrics.listener-errors');

export function installListenerErrors(): void {
  for (const proto of [HttpServer.prototype, HttpsServer.prototype] as Array<HttpServer & { [kPatched]?: true }>) {
    if (Object.prototype.hasOwnProperty.call(proto, kPatched)) continue;
    proto[kPatched] = true;
    for (const method of ['on', 'addListener', 'prependListener'] as const) {
      const original = proto[method] as (this: HttpServer, event: string | symbol, listener: (...a: unknown[]) => void) => HttpServer;
      Object.defineProperty(proto, method, {
        configurable: true,
        writable: true,
        value: function (this: HttpServer, event: string | symbol, listener: (...a: unknown[]) => void) {
          return original.call(this, event, event === 'request' && typeof listener === 'function' ? wrap(listener) : listener);
        },
      });
    }
  }
}

function wrap(listener: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  const wrapped = function (this: unknown, req: IncomingMessage) {
    let result: unknown;
    try {
      // `arguments` passed through, not rest parameters: no array per request.
      result = listener.apply(this, arguments as unknown as unknown[]);
    } catch (err) {
      observe(req, err);
      throw err;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, (err: unknown) => {
        observe(req, err);
        throw err; // re-raised: still an unhandled rejection, as without us
      });
    }
    return result;
  } as ((...a: unknown[]) => unknown) & { listener?: unknown };
  wrapped.listener = listener;
  return wrapped;
}

function observe(req: IncomingMessage, err: unknown): void {
  stateOf(req)?.recorder.error(req, err);
}
