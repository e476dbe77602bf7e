import { family, type FamilyDef } from './family.js';

/** The 19 HTTP families of django-prometheus 2.5.0 (metrics.md section 3), in table order. */
const http = (n: Omit<FamilyDef, 'group' | 'merge'> & { type: 'counter' | 'histogram' }) => family({ ...n, group: 'http' });

export const HTTP = {
  requestsBefore: http({
    name: 'django_http_requests_before_middlewares_total',
    help: 'Total count of requests before middlewares run.',
    type: 'counter', labels: [],
  }),
  responsesBefore: http({
    name: 'django_http_responses_before_middlewares_total',
    help: 'Total count of responses before middlewares run.',
    type: 'counter', labels: [],
  }),
  latencyIncludingMiddlewares: http({
    name: 'django_http_requests_latency_including_middlewares_seconds',
    help: 'Histogram of requests processing time (including middleware processing time).',
    type: 'histogram', labels: [], buckets: 'latency',
  }),
  unknownLatencyIncludingMiddlewares: http({
    name: 'django_http_requests_unknown_latency_including_middlewares_total',
    help: 'Count of requests for which the latency was unknown (when computing django_http_requests_latency_including_middlewares_seconds).',
    type: 'counter', labels: [],
  }),
  latencyByViewMethod: http({
    name: 'django_http_requests_latency_seconds_by_view_method',
    help: 'Histogram of request processing time labelled by view.',
    type: 'histogram', labels: ['view', 'method'], buckets: 'latency',
  }),
  unknownLatency: http({
    name: 'django_http_requests_unknown_latency_total',
    help: 'Count of requests for which the latency was unknown.',
    type: 'counter', labels: [],
  }),
  ajaxRequests: http({
    name: 'django_http_ajax_requests_total',
    help: 'Count of AJAX requests.',
    type: 'counter', labels: [],
  }),
  requestsByMethod: http({
    name: 'django_http_requests_total_by_method_total',
    help: 'Count of requests by method.',
    type: 'counter', labels: ['method'],
  }),
  requestsByTransport: http({
    name: 'django_http_requests_total_by_transport_total',
    help: 'Count of requests by transport.',
    type: 'counter', labels: ['transport'],
  }),
  requestsByViewTransportMethod: http({
    name: 'django_http_requests_total_by_view_transport_method_total',
    help: 'Count of requests by view, transport, method.',
    type: 'counter', labels: ['view', 'transport', 'method'],
  }),
  requestBodyBytes: http({
    name: 'django_http_requests_body_total_bytes',
    help: 'Histogram of requests by body size.',
    type: 'histogram', labels: [], buckets: 'body',
  }),
  responsesByTemplate: http({
    name: 'django_http_responses_total_by_templatename_total',
    help: 'Count of responses by template name.',
    type: 'counter', labels: ['templatename'],
  }),
  responsesByStatus: http({
    name: 'django_http_responses_total_by_status_total',
    help: 'Count of responses by status.',
    type: 'counter', labels: ['status'],
  }),
  responsesByStatusViewMethod: http({
    name: 'django_http_responses_total_by_status_view_method_total',
    help: 'Count of responses by status, view, method.',
    type: 'counter', labels: ['status', 'view', 'method'],
  }),
  responseBodyBytes: http({
    name: 'django_http_responses_body_total_bytes',
    help: 'Histogram of responses by body size.',
    type: 'histogram', labels: [], buckets: 'body',
  }),
  responsesByCharset: http({
    name: 'django_http_responses_total_by_charset_total',
    help: 'Count of responses by charset.',
    type: 'counter', labels: ['charset'],
  }),
  streamingResponses: http({
    name: 'django_http_responses_streaming_total',
    help: 'Count of streaming responses.',
    type: 'counter', labels: [],
  }),
  exceptionsByType: http({
    name: 'django_http_exceptions_total_by_type_total',
    help: 'Count of exceptions by object type.',
    type: 'counter', labels: ['type'],
  }),
  exceptionsByView: http({
    name: 'django_http_exceptions_total_by_view_total',
    help: 'Count of exceptions by view.',
    type: 'counter', labels: ['view'],
  }),
} as const;
