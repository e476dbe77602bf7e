import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HTTP, type FamilyDef } from '../../views/index.js';
import { describeError } from '../contain.js';
import { Labelling, type CountOps, type CurrentRequest, type ObserveOps } from '../extension/labelling.js';
import type { LabelMetric, ViewName } from '../extension/options.js';
import { onceLogger } from '../log.js';
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
  private requestsBefore!: Counter;
  private responsesBefore!: Counter;
  private latencyIncluding!: Histogram;
  private latencyByView!: ObserveOps;
  private ajax!: CountOps;
  private byMethod!: CountOps;
  private byTransport!: CountOps;
  private byViewTransportMethod!: CountOps;
  private requestBody!: ObserveOps;
  private byTemplate!: CountOps;
  private byStatus!: CountOps;
  private byStatusViewMethod!: CountOps;
  private responseBody!: ObserveOps;
  private byCharset!: CountOps;
  private streaming!: CountOps;
  private exceptionsByType!: CountOps;
  private exceptionsByView!: CountOps;
  /** The request being recorded, for the app's `labelMetric`. */
  private readonly request: CurrentRequest = { current: undefined };
  /** Routes families through the app's `labelMetric` and extra labels (`configure()`), where it has any. */
  private labelling = new Labelling(undefined, this.request);
  /** The app's view naming (`configure()`). */
  private viewName: ViewName | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly trustProxy: boolean,
  ) {
    this.bind();
    // A family reshaped by configure() is a new store object: take it.
    registry.onReshape(() => this.bind());
    // #4 and #6 stay 0: T0 and TF are always known here (metrics.md section 12.12).
  }

  /**
   * The app's hooks from `configure()`, replacing earlier ones: `labelMetric` for every
   * routing-level recording, `viewName` at route matches.
   */
  extend(labelMetric: LabelMetric | undefined, viewName: ViewName | undefined): void {
    this.labelling = new Labelling(labelMetric, this.request);
    this.viewName = viewName;
    this.bind();
  }

  /** Takes the registry's families, through the app's labelling where it applies. */
  private bind(): void {
    const { registry, labelling } = this;
    const counter = (def: FamilyDef): CountOps => {
      const family = registry.counter(def);
      return labelling.applies(def, family.def) ? labelling.counter(def, family) : family;
    };
    const histogram = (def: FamilyDef): ObserveOps => {
      const family = registry.histogram(def);
      return labelling.applies(def, family.def) ? labelling.histogram(def, family) : family;
    };
    this.requestsBefore = registry.counter(HTTP.requestsBefore);
    this.responsesBefore = registry.counter(HTTP.responsesBefore);
    this.latencyIncluding = registry.histogram(HTTP.latencyIncludingMiddlewares);
    this.latencyByView = histogram(HTTP.latencyByViewMethod);
    this.ajax = counter(HTTP.ajaxRequests);
    this.byMethod = counter(HTTP.requestsByMethod);
    this.byTransport = counter(HTTP.requestsByTransport);
    this.byViewTransportMethod = counter(HTTP.requestsByViewTransportMethod);
    this.requestBody = histogram(HTTP.requestBodyBytes);
    this.byTemplate = counter(HTTP.responsesByTemplate);
    this.byStatus = counter(HTTP.responsesByStatus);
    this.byStatusViewMethod = counter(HTTP.responsesByStatusViewMethod);
    this.responseBody = histogram(HTTP.responseBodyBytes);
    this.byCharset = counter(HTTP.responsesByCharset);
    this.streaming = counter(HTTP.streamingResponses);
    this.exceptionsByType = counter(HTTP.exceptionsByType);
    this.exceptionsByView = counter(HTTP.exceptionsByView);
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
   * A route matched (`route`: its template). The last match before completion wins, and every
   * per-view family of the request, its request counter included, carries that final view: the
   * template, or what the app's `viewName` makes of it.
   */
  matchRoute(req: IncomingMessage, route: string): void {
    const state = stateOf(req);
    if (state !== undefined) this.routeMatched(state, route);
  }

  /** `matchRoute` for a hook that already holds the request's state. */
  routeMatched(state: RequestState, route: string): void {
    if (state.done) return;
    if (!state.entered) this.countEntry(state);
    state.view = this.viewName === undefined || route === METRICS_VIEW ? route : (appViewName(this.viewName, state, route) ?? route);
  }

  /** The app names the view from handler code (`setViewName`): a route match whose name is final. */
  nameView(req: IncomingMessage, view: string): void {
    const state = stateOf(req);
    if (state === undefined || state.done) return;
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
    this.request.current = state;
    this.byTemplate.add(values1(templateName));
  }

  /** The request's first error reaching the framework's error path, before completion. */
  error(req: IncomingMessage, err: unknown): void {
    const state = stateOf(req);
    if (state === undefined || state.errored || state.done) return;
    state.errored = true;
    this.request.current = state;
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
    this.request.current = state;
    if (!state.entered) this.countEntry(state);
    // Plain node:http: no route match, the app's viewName may still name the request.
    if (this.viewName !== undefined && state.framework === undefined && state.view === undefined) state.view = appViewName(this.viewName, state, undefined);
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
    this.request.current = state;
    const { headers } = state;
    if (headers.ajax) this.ajax.inc();
    this.byMethod.add(values1(state.method));
    state.transport = transportOf(headers, this.trustProxy || frameworkTrustsProxy === true);
    this.byTransport.add(values1(state.transport));
    this.requestBody.observe(headers.bodySize);
  }
}

const warnOnce = onceLogger();

/**
 * The app's `viewName` for a request; `undefined` (the default view) when it returns no string.
 * A throw is the app's own: reported once, and the default view applies.
 */
function appViewName(viewName: ViewName, state: RequestState, route: string | undefined): string | undefined {
  let name: unknown;
  try {
    name = viewName({ req: state.req, framework: state.framework ?? 'node:http', route });
  } catch (err) {
    warnOnce('threw', `configure: viewName threw (${describeError(err)}); the default view applies`);
    return undefined;
  }
  if (typeof name === 'string' || name === undefined) return name;
  warnOnce('type', `configure: viewName returned ${name === null ? 'null' : typeof name}, not a string or undefined; the default view applies`);
  return undefined;
}

function responseBodySize(state: RequestState): number {
  if (state.contentLength >= 0) return state.contentLength;
  return state.rawMethod === 'HEAD' ? 0 : state.bytes;
}
