import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HTTP } from '../../views/index.js';
import type { Counter } from '../store/counter.js';
import type { Histogram } from '../store/histogram.js';
import { values1, values2, values3 } from '../store/label-values.js';
import type { Registry } from '../store/registry.js';
import { charsetOf, errorTypeOf, requestBodySize, sanitizeMethod, transportOf, UNNAMED_VIEW } from './labels.js';
import { attachState, RequestState, stateOf } from './request-state.js';

/**
 * The only place that turns HTTP request events into measurements of the 19 HTTP families.
 * Hooks (the node:http fast path, instrumentation-http, framework adapters) call it; it never
 * throws into them, and it counts each request exactly once whatever order events arrive in.
 */
export class HttpRecorder {
  private readonly requestsBefore: Counter;
  private readonly responsesBefore: Counter;
  private readonly latencyIncluding: Histogram;
  private readonly latencyByView: Histogram;
  private readonly ajax: Counter;
  private readonly byMethod: Counter;
  private readonly byTransport: Counter;
  private readonly byViewTransportMethod: Counter;
  private readonly requestBody: Histogram;
  private readonly byTemplate: Counter;
  private readonly byStatus: Counter;
  private readonly byStatusViewMethod: Counter;
  private readonly responseBody: Histogram;
  private readonly byCharset: Counter;
  private readonly streaming: Counter;
  private readonly exceptionsByType: Counter;
  private readonly exceptionsByView: Counter;

  constructor(
    registry: Registry,
    private readonly trustProxy: boolean,
  ) {
    this.requestsBefore = registry.counter(HTTP.requestsBefore);
    this.responsesBefore = registry.counter(HTTP.responsesBefore);
    this.latencyIncluding = registry.histogram(HTTP.latencyIncludingMiddlewares);
    this.latencyByView = registry.histogram(HTTP.latencyByViewMethod);
    this.ajax = registry.counter(HTTP.ajaxRequests);
    this.byMethod = registry.counter(HTTP.requestsByMethod);
    this.byTransport = registry.counter(HTTP.requestsByTransport);
    this.byViewTransportMethod = registry.counter(HTTP.requestsByViewTransportMethod);
    this.requestBody = registry.histogram(HTTP.requestBodyBytes);
    this.byTemplate = registry.counter(HTTP.responsesByTemplate);
    this.byStatus = registry.counter(HTTP.responsesByStatus);
    this.byStatusViewMethod = registry.counter(HTTP.responsesByStatusViewMethod);
    this.responseBody = registry.histogram(HTTP.responseBodyBytes);
    this.byCharset = registry.counter(HTTP.responsesByCharset);
    this.streaming = registry.counter(HTTP.streamingResponses);
    this.exceptionsByType = registry.counter(HTTP.exceptionsByType);
    this.exceptionsByView = registry.counter(HTTP.exceptionsByView);
    // #4 and #6 stay 0: T0 and TF are always known here (metrics.md section 12.12).
  }

  /** Server dispatch (T0). Returns the request's state, or `undefined` if it was already started. */
  start(req: IncomingMessage, res: ServerResponse): RequestState | undefined {
    if (stateOf(req) !== undefined) return undefined;
    const method = req.method ?? '';
    const state = new RequestState(this, req, res, performance.now(), method, sanitizeMethod(method));
    attachState(state);
    this.requestsBefore.inc();
    return state;
  }

  /**
   * Framework entry (TF). Only the first framework counts (nested frameworks are one request).
   * `trustProxy` is the framework's own proxy-trust decision for this request, if it has one.
   */
  enter(req: IncomingMessage, framework: string, trustProxy?: boolean): void {
    const state = stateOf(req);
    if (state === undefined || state.entered) return;
    state.tf = performance.now();
    state.framework = framework;
    this.countEntry(state, trustProxy);
  }

  /** A route matched (or the app named the view). The last match before completion wins. */
  matchRoute(req: IncomingMessage, view: string): void {
    const state = stateOf(req);
    if (state !== undefined) this.routeMatched(state, view);
  }

  /** `matchRoute` for a hook that already holds the request's state. */
  routeMatched(state: RequestState, view: string): void {
    if (state.done) return;
    if (!state.entered) this.countEntry(state);
    const first = state.view === undefined;
    state.view = view;
    if (first) this.byViewTransportMethod.add(values3(view, state.transport, state.method));
  }

  /** The first response-bound template render. */
  render(req: IncomingMessage, templateName: string): void {
    const state = stateOf(req);
    if (state === undefined || state.rendered || state.done) return;
    state.rendered = true;
    this.byTemplate.add(values1(templateName));
  }

  /** The request's first error reaching the framework's error path, before completion. */
  error(req: IncomingMessage, err: unknown): void {
    const state = stateOf(req);
    if (state === undefined || state.errored || state.done) return;
    state.errored = true;
    this.exceptionsByType.add(values1(errorTypeOf(err)));
    this.exceptionsByView.add(values1(state.view ?? UNNAMED_VIEW));
  }

  /** The response's `finish`, or `close` if the connection closed first. Exactly once. */
  complete(state: RequestState): void {
    if (state.done) return;
    state.done = true;
    const now = performance.now();
    const { res } = state;
    if (!state.entered) this.countEntry(state);
    this.responsesBefore.inc();
    this.latencyIncluding.observe((now - state.t0) / 1000);
    const view = state.view ?? UNNAMED_VIEW;
    this.latencyByView.observeWith(values2(view, state.rawMethod), (now - state.tf) / 1000);
    const status = String(res.statusCode);
    this.byStatus.add(values1(status));
    this.byStatusViewMethod.add(values3(status, view, state.method));
    if (state.streaming) this.streaming.inc();
    else this.responseBody.observe(responseBodySize(state));
    this.byCharset.add(values1(charsetOf(res.getHeader('content-type'))));
  }

  /** #7, #8, #9, #11: at TF, or for plain node:http (TF = T0) before the first routing-level event. */
  private countEntry(state: RequestState, frameworkTrustsProxy?: boolean): void {
    state.entered = true;
    const { req } = state;
    if (req.headers['x-requested-with'] === 'XMLHttpRequest') this.ajax.inc();
    this.byMethod.add(values1(state.method));
    state.transport = transportOf(req, this.trustProxy || frameworkTrustsProxy === true);
    this.byTransport.add(values1(state.transport));
    this.requestBody.observe(requestBodySize(req));
  }
}

function responseBodySize(state: RequestState): number {
  if (state.contentLength >= 0) return state.contentLength;
  return state.rawMethod === 'HEAD' ? 0 : state.bytes;
}
