import { EventEmitter } from 'node:events';
import { Server as HttpServer, type IncomingMessage } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { safe } from '../contain.js';
import { stateOf } from './request-state.js';

/**
 * Plain node:http apps have no framework error path: their error is a throw from a `request`
 * listener or a rejection of the promise it returns. Both are observed without touching the
 * listeners, so `on`, `once`, `removeListener`, `listeners()` and `rawListeners()` are Node's own:
 * a server's `emit('request')` calls the listeners exactly as EventEmitter's `emit` does, noting a
 * throw (re-raised as is) and what each listener returns. A returned promise gets no handler: its
 * rejection is observed when Node reports it unhandled, so the app's `unhandledRejection` sees the
 * same reason and the same promise as without the package, and a promise the app handles itself
 * is not an error. With `captureRejections` the server's own rejection handler (Node's 500) sees it.
 */
const kPatched = Symbol.for('otel-django-metrics.listener-errors');

type Listener = (...args: unknown[]) => unknown;
type Emit = (this: Emitter, event: string | symbol, ...args: unknown[]) => boolean;
type OnRejection = (this: Emitter, err: unknown, event: string | symbol, ...args: unknown[]) => void;
interface Emitter extends EventEmitter {
  _events: { request?: Listener | Listener[] } | undefined;
}

/**
 * EventEmitter's `captureRejections` flag (`events.captureRejections`): its `emit` then handles
 * each returned promise itself, so such servers keep the original `emit`, and a rejection is
 * observed where Node hands it to the server (`captureRejectionSymbol`). A Node without the flag
 * under this name keeps the original `emit` everywhere: then only throws and captured rejections
 * are observed.
 */
const kCapture = Object.getOwnPropertySymbols(EventEmitter.prototype).find((symbol) => symbol.description === 'kCapture');

function countError(req: IncomingMessage, err: unknown): void {
  stateOf(req)?.recorder.error(req, err);
}

const observeThrow = safe('request listener throw', countError);

const observeCaptured = safe('request listener captured rejection', countError);

const observeUnhandled = safe('request listener rejection', (reason: unknown, promise: unknown) => {
  const req = RequestTag.of(promise);
  if (req !== undefined) countError(req, reason);
});

export function installListenerErrors(): void {
  const protos = [HttpServer.prototype, HttpsServer.prototype] as unknown as Array<Emitter & { [kPatched]?: true }>;
  if (Object.prototype.hasOwnProperty.call(protos[0], kPatched)) return;
  for (const proto of protos) {
    proto[kPatched] = true;
    setMethod(proto, 'emit', observingEmit(proto.emit as Emit));
    setMethod(proto, EventEmitter.captureRejectionSymbol, observingRejection((proto as unknown as Record<symbol, OnRejection>)[EventEmitter.captureRejectionSymbol]!));
  }
  observeUnhandledRejections();
}

/** An own method of `proto`, as assignment would make it, shadowing the inherited one. */
function setMethod(proto: object, key: string | symbol, value: (...args: never[]) => unknown): void {
  Object.defineProperty(proto, key, { configurable: true, writable: true, enumerable: true, value });
}

function observingEmit(original: Emit): Emit {
  // Another wrapper of `emit` installed first (an app's own tracing instrumentation starts its
  // server spans there) must run for every request: then the listeners' promises go untagged, and
  // only their throws and captured rejections are observed.
  const ownEmit = original === (EventEmitter.prototype.emit as unknown);
  // Named parameters, not a rest array: the array would escape into the listener call and be
  // allocated per request, while `apply(this, arguments)` and `[req, res]` are optimised away.
  return function emit(this: Emitter, event: string | symbol, req?: unknown, res?: unknown): boolean {
    // Node's servers emit `request` with (req, res) only; any other call is EventEmitter's own.
    if (event !== 'request' || arguments.length !== 3) return original.apply(this, arguments as unknown as Parameters<Emit>);
    try {
      return !ownEmit || capturing(this) ? original.apply(this, arguments as unknown as Parameters<Emit>) : callListeners(this, req as IncomingMessage, res);
    } catch (err) {
      observeThrow(req as IncomingMessage, err);
      throw err;
    }
  };
}

function capturing(server: Emitter): boolean {
  return kCapture === undefined || Boolean((server as unknown as Record<symbol, unknown>)[kCapture]);
}

function observingRejection(original: OnRejection): OnRejection {
  return function (this: Emitter, err: unknown, event: string | symbol, req?: unknown): void {
    if (event === 'request') observeCaptured(req as IncomingMessage, err);
    original.apply(this, arguments as unknown as Parameters<OnRejection>);
  };
}

/** EventEmitter's `emit` of `request` (no `captureRejections`), step for step, tagging what each listener returns. */
function callListeners(server: Emitter, req: IncomingMessage, res: unknown): boolean {
  const events = server._events;
  if (events === undefined) return false;
  const handler = events.request;
  if (handler === undefined) return false;
  if (typeof handler === 'function') {
    const result = handler.apply(server, [req, res]);
    // Most listeners return nothing: they pay no call.
    if (result !== undefined && result !== null) tagPromise(result, req);
  } else {
    // A copy, as in Node: listeners added or removed by a listener do not change this emit.
    const listeners = handler.slice();
    const args = [req, res];
    for (let i = 0; i < listeners.length; i++) {
      const result = listeners[i]!.apply(server, args);
      if (result !== undefined && result !== null) tagPromise(result, req);
    }
  }
  return true;
}

/**
 * Native promises only (async functions): telling another thenable would read its `then`, which
 * EventEmitter's `emit` does not, and tagging any other object, such as the response a listener
 * returns, would change its shape.
 */
const tagPromise = safe('request listener result', (result: unknown, req: IncomingMessage) => {
  if (result instanceof Promise) RequestTag.set(result, req);
});

/** Lets `super()` return an existing object, so that a subclass's private field lands on it. */
class Stamp {
  constructor(target: object) {
    return target as Stamp;
  }
}

/**
 * The request a listener's promise came from, as a private field of the promise: the app cannot
 * see it (no property, no key), and it costs a fraction of a WeakMap entry per request.
 */
class RequestTag extends Stamp {
  #req: IncomingMessage;

  private constructor(promise: Promise<unknown>, req: IncomingMessage) {
    super(promise);
    this.#req = req;
  }

  static set(promise: Promise<unknown>, req: IncomingMessage): void {
    // A promise returned again (a shared one) keeps its first tag: a field is initialised once.
    if (!(#req in promise)) new RequestTag(promise, req);
  }

  static of(value: unknown): IncomingMessage | undefined {
    return typeof value === 'object' && value !== null && #req in value ? (value as RequestTag).#req : undefined;
  }
}

/**
 * Node reports an unhandled rejection with `process.emit('unhandledRejection', reason, promise)`
 * whatever the `--unhandled-rejections` mode; observing that call adds no listener, so the app's
 * listeners, the default crash and the warnings are unchanged.
 */
function observeUnhandledRejections(): void {
  const original = process.emit as (this: NodeJS.Process, event: string | symbol, ...args: unknown[]) => boolean;
  process.emit = function emit(this: NodeJS.Process, event: string | symbol, reason?: unknown, promise?: unknown): boolean {
    if (event === 'unhandledRejection') observeUnhandled(reason, promise);
    return original.apply(this, arguments as unknown as Parameters<typeof original>);
  } as typeof process.emit;
}
