import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HTTP } from '../../views/index.js';
import type { Counter } from '../store/counter.js';
import type { Histogram } from '../store/histogram.js';
import { values1, values2, values3 } from '../store/label-values.js';
import type { Registry } from '../store/registry.js';
import { sampledTrace } from './exemplar.js';
import { charsetOf, errorTypeOf, METRICS_VIEW, requestHeaders, sanitizeMethod, transportOf, UNNAMED_VIEW } from './labels.js';
import { attachState, RequestState, stateOf } from './request-state.js';

/**
 * The only place that turns HTTP request events into measurements of the 19 HTTP families.
 * Hooks (the node:http fast path, instrumentation-http, framework adapters) call it inside the
 * containment primitive, and it counts each request exactly once whatever order events arrive in.
 * It reads the app's request and response only at dispatch and, at completion, before recording
 * anything: if such a read throws (an app's own getter), that request's measurement is dropped
 * whole rather than counted in some families and not in others.
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
    const state = new RequestState(this, req, res, performance.now(), method, sanitizeMethod(method), requestHeaders(req));
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

  /**
   * A route matched (or the app named the view). The last match before completion wins, and
   * every per-view family of the request, its request counter included, carries that final view.
   */
  matchRoute(req: IncomingMessage, view: string): void {
    const state = stateOf(req);
    if (state !== undefined) this.routeMatched(state, view);
  }

  /** `matchRoute` for a hook that already holds the request's state. */
  routeMatched(state: RequestState, view: string): void {
    if (state.done) return;
    if (!state.entered) this.countEntry(state);
    state.view = view;
  }

  /**
   * The in-app metrics handler serves this request: its view is `prometheus-django-metrics`, and
   * the returned function takes the scrape's uncompressed body bytes as they are sent (chunked,
   * yet one non-streaming response of that size). `undefined` for an untracked request.
   */
  servingMetrics(req: IncomingMessage): ((bytes: number) => void) | undefined {
    const state = stateOf(req);
    if (state === undefined) return undefined;
    this.routeMatched(state, METRICS_VIEW);
    return (bytes) => {
      if (state.contentLength < 0) state.contentLength = 0;
      state.contentLength += bytes;
    };
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

  /**
   * The response's `close` (after `finish`, or alone if the connection closed first). Exactly once.
   * A routed request counts in the per-view request family here, with its final view: a request
   * still in flight is not in that family yet.
   */
  complete(state: RequestState): void {
    if (state.done) return;
    state.done = true;
    const now = performance.now();
    const { res } = state;
    const status = String(res.statusCode);
    const charset = charsetOf(res.getHeader('content-type'));
    // A sampled trace the request ran under becomes the exemplar of its latencies and per-view counts.
    const traced = sampledTrace();
    if (!state.entered) this.countEntry(state);
    this.responsesBefore.inc();
    this.latencyIncluding.observe((now - state.t0) / 1000, traced);
    const view = state.view ?? UNNAMED_VIEW;
    if (state.view !== undefined) this.byViewTransportMethod.add(values3(view, state.transport, state.method), 1, traced);
    this.latencyByView.observeWith(values2(view, state.rawMethod), (now - state.tf) / 1000, traced);
    this.byStatus.add(values1(status));
    this.byStatusViewMethod.add(values3(status, view, state.method), 1, traced);
    if (state.streaming) this.streaming.inc();
    else this.responseBody.observe(responseBodySize(state));
    this.byCharset.add(values1(charset));
  }

  /** The entry families (ajax, method, transport, request body): at TF, or for plain node:http (TF = T0) before the first routing-level event. */
  private countEntry(state: RequestState, frameworkTrustsProxy?: boolean): void {
    state.entered = true;
    const { headers } = state;
    if (headers.ajax) this.ajax.inc();
    this.byMethod.add(values1(state.method));
    state.transport = transportOf(headers, this.trustProxy || frameworkTrustsProxy === true);
    this.byTransport.add(values1(state.transport));
    this.requestBody.observe(headers.bodySize);
  }
}

function responseBodySize(state: RequestState): number {
  if (state.contentLength >= 0) return state.contentLength;
  return state.rawMethod === 'HEAD' ? 0 : state.bytes;
}
