// The hand-written prom-client peer on node:http: the express peer's metrics
// (test/bench/apps/prom-client-metrics.mjs) recorded around the app's handler when each response
// finishes, labelled by the route template the handler matched.
import { performance } from 'node:perf_hooks';
import { recordRequest, UNMATCHED } from '../../apps/prom-client-metrics.mjs';
import { handle, serveNodeHttp } from './node-http-app.mjs';

serveNodeHttp((req, res) => {
  const start = performance.now();
  let route = UNMATCHED;
  res.on('finish', () => recordRequest(req.method, route, res.statusCode, start));
  route = handle(req, res) ?? UNMATCHED;
});
