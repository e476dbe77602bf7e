// fastify-metrics 12, the best peer on fastify, recording what the hand-written prom-client peer
// records elsewhere: its route histogram (by method, route template and status code, with
// django-prometheus's buckets; its count is the request counter), unmatched URLs included as the
// peer's fallback route. Its per-route summary and prom-client's runtime metrics are off: they
// are not part of that comparison.
import metricsPlugin from 'fastify-metrics';
import { DJANGO_BUCKETS } from '../../apps/prom-client-metrics.mjs';
import { serveFastify } from './fastify-app.mjs';

await serveFastify({
  install: (app) => app.register(metricsPlugin, {
    endpoint: '/metrics',
    defaultMetrics: { enabled: false },
    routeMetrics: {
      registeredRoutesOnly: false,
      enabled: { histogram: true, summary: false },
      overrides: { histogram: { buckets: DJANGO_BUCKETS } },
    },
  }),
});
