import type { IncomingMessage, ServerResponse } from 'node:http';
import { contain, safe } from '../../contain.js';
import { stateOf, type RequestState } from '../request-state.js';

/** The parts of a fastify 4/5 instance, request and reply this module reads (no type import: fastify is optional). */
export type DecorateReply = (this: PluginInstance, name: string, fn: unknown, dependencies?: unknown) => unknown;

interface PluginInstance {
  [decorator: string]: unknown;
  addHook(name: 'onSend', hook: (request: HookRequest, reply: unknown, payload: unknown, done: Done) => void): unknown;
  addHook(name: 'onResponse', hook: (request: HookRequest, reply: unknown, done: Done) => void): unknown;
}

interface HookRequest {
  raw: IncomingMessage;
}

interface Reply {
  raw: ServerResponse;
}

type Done = () => void;
type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * The root instance's `decorateReply`, seeing the reply decorators of two plugins as they are
 * declared (every encapsulated context inherits the root's method; @fastify/view and
 * @fastify/compress decorate through fastify-plugin, so they call it on the instance they serve):
 * - @fastify/view's `reply.view(name)` (under any `propertyName`) is wrapped to count its template.
 *   It is recognised by the instance decorator of the same name the plugin declared just before,
 *   with its `clearCache`. `reply.viewAsync` and `fastify.view` render to a string: not counted.
 * - @fastify/compress declares `reply.compress`; that context then gets two hooks of its own, so an
 *   app without compression pays nothing for them.
 */
export function decorateReplyObserved(original: DecorateReply): DecorateReply {
  return function (this: PluginInstance, name: string, fn: unknown, dependencies?: unknown) {
    const decorator = (typeof fn === 'function' && isViewRenderer(this, name) ? observedView(fn as Method) : undefined) ?? fn;
    // The app's arguments, as given, unless the renderer is ours to wrap.
    const result = arguments.length > 2 ? original.call(this, name, decorator, dependencies) : original.call(this, name, decorator);
    if (name === 'compress') contain('fastify adapter @fastify/compress hooks', () => pinPayloads(this));
    return result;
  };
}

const isViewRenderer = (instance: PluginInstance, name: string): boolean =>
  contain('fastify adapter reply decorator', () => {
    const declared = instance[name];
    return typeof declared === 'function' && typeof (declared as { clearCache?: unknown }).clearCache === 'function';
  }) === true;

function observedView(view: Method): Method {
  return function (this: unknown, ...args: unknown[]) {
    onView(this, args[0]);
    return view.apply(this, args);
  };
}

const onView = safe('fastify adapter reply.view', (reply: unknown, page: unknown) => {
  const state = stateOf((reply as Reply).raw);
  state?.recorder.render(state.req, String(page));
});

/*
 * Compression turns a route's payload into a stream, yet the response the route answered is the
 * payload it returned: its body size is that serialized payload, uncompressed (what fastify would
 * have sent as Content-Length), and it is not streaming. `onSend` at the instance level runs before
 * @fastify/compress's route-level `onSend`, so it sees that payload; `onResponse` (the response's
 * `finish`, before the `close` that completes the request) settles it over what the compressed
 * stream's pipe told the response tracker. A payload that already was a stream stays streaming.
 */

const pinned = new WeakMap<RequestState, number>();

function pinPayloads(instance: PluginInstance): void {
  instance.addHook('onSend', (request, _reply, payload, done) => {
    pin(request, payload);
    done();
  });
  instance.addHook('onResponse', (request, _reply, done) => {
    settle(request);
    done();
  });
}

const pin = safe('fastify adapter onSend', (request: HookRequest, payload: unknown) => {
  const state = stateOf(request.raw);
  if (state === undefined) return;
  if (typeof payload === 'string') pinned.set(state, Buffer.byteLength(payload));
  else if (payload instanceof Uint8Array) pinned.set(state, payload.byteLength);
});

const settle = safe('fastify adapter onResponse', (request: HookRequest) => {
  const state = stateOf(request.raw);
  const size = state === undefined ? undefined : pinned.get(state);
  if (state === undefined || size === undefined || state.done) return;
  pinned.delete(state);
  state.streaming = false;
  state.contentLength = size;
});
