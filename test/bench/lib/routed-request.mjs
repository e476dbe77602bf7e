// What the HTTP recorder records for one routed, non-streaming request (entry and completion),
// straight into a built store: the benches that measure the store without HTTP traffic share it.

/** The families one routed request records, from a tree's `Registry` and its `HTTP` catalog. */
export function routedRequestFamilies(registry, HTTP) {
  return {
    requestsBefore: registry.counter(HTTP.requestsBefore), responsesBefore: registry.counter(HTTP.responsesBefore),
    latencyIncluding: registry.histogram(HTTP.latencyIncludingMiddlewares), latencyByView: registry.histogram(HTTP.latencyByViewMethod),
    byMethod: registry.counter(HTTP.requestsByMethod), byTransport: registry.counter(HTTP.requestsByTransport),
    byViewTransportMethod: registry.counter(HTTP.requestsByViewTransportMethod), requestBody: registry.histogram(HTTP.requestBodyBytes),
    byStatus: registry.counter(HTTP.responsesByStatus), byStatusViewMethod: registry.counter(HTTP.responsesByStatusViewMethod),
    responseBody: registry.histogram(HTTP.responseBodyBytes), byCharset: registry.counter(HTTP.responsesByCharset),
  };
}

// One reused tuple per arity, as the recorder does: the store copies label values it keeps.
const t1 = [''];
const t2 = ['', ''];
const t3 = ['', '', ''];
const v1 = (a) => ((t1[0] = a), t1);
const v2 = (a, b) => ((t2[0] = a), (t2[1] = b), t2);
const v3 = (a, b, c) => ((t3[0] = a), (t3[1] = b), (t3[2] = c), t3);

/** Records one request of `view`, `method` and `status` (a string) with the given timings and response size. */
export function recordRoutedRequest(f, view, method, status, { latency, viewLatency, responseBytes }) {
  f.requestsBefore.inc();
  f.byMethod.add(v1(method));
  f.byTransport.add(v1('http'));
  f.requestBody.observe(0);
  f.responsesBefore.inc();
  f.latencyIncluding.observe(latency);
  f.byViewTransportMethod.add(v3(view, 'http', method));
  f.latencyByView.observeWith(v2(view, method), viewLatency);
  f.byStatus.add(v1(status));
  f.byStatusViewMethod.add(v3(status, view, method));
  f.responseBody.observe(responseBytes);
  f.byCharset.add(v1('utf-8'));
}
