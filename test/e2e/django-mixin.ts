// The queries of the Grafana django-mixin (adinhodovic/django-mixin at 5ba6788d, dashboards
// django-overview, django-requests, django-requests-by-view and django-model-overview, and the
// alert group `django`), written out with its default config (ignored views, admin regex,
// ignored templates) and Grafana's variables substituted. They are the contract the package keeps
// with teams that import those dashboards unchanged.

export interface MixinSelection {
  cluster: string;
  namespace: string;
  job: string;
  /** The `$view` variable as Grafana interpolates it into a regex matcher. */
  view: string;
  method: string;
}

export interface MixinQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

const IGN = '<unnamed view>|health_check:health_check_home|prometheus-django-metrics';
const REQ = 'django_http_requests_total_by_view_transport_method_total';
const RESP = 'django_http_responses_total_by_status_view_method_total';
const LAT = 'django_http_requests_latency_seconds_by_view_method_bucket';
const R = '[1m]'; // $__rate_interval at a 1 s scrape interval
const TEMPLATES_IGNORED = ".*'health_check/index.html'.*|None";

export function mixinQueries(s: MixinSelection): MixinQuery[] {
  const F = `cluster="${s.cluster}", namespace="${s.namespace}", job=~"${s.job}"`;
  const V = `view=~"${s.view}", view!~"${IGN}"`;
  const M = `method=~"${s.method}"`;
  const queries: MixinQuery[] = [];
  const add = (dashboard: string, panel: string, expr: string) => queries.push({ dashboard, panel, expr });

  const overview = 'Django / Overview';
  add(overview, 'Request Volume', `round(sum(rate(${REQ}{${F}, view!~"${IGN}"}${R})), 0.001)`);
  add(overview, 'Database Ops', `sum(rate(django_db_execute_total{${F}}${R})) by (namespace, job)`);
  add(
    overview,
    'Cache Hitrate [30m]',
    `sum(rate(django_cache_get_hits_total{${F}}[30m])) by (namespace, job) / sum(rate(django_cache_get_total{${F}}[30m])) by (namespace, job)`,
  );
  for (const n of ['2', '3', '4', '5']) {
    add(overview, `Responses ${n}xx`, `round(sum(rate(${RESP}{${F}, view!~"${IGN}", status=~"${n}.*"}${R}) > 0) by (job), 0.001)`);
  }
  add(overview, 'Migrations Applied', `max(django_migrations_applied_total{${F}}) by (namespace, job)`);
  add(overview, 'Migrations Unapplied', `max(django_migrations_unapplied_total{${F}}) by (namespace, job)`);
  add(overview, 'Database Connections', `round(sum(increase(django_db_new_connections_total{${F}}${R}) > 0) by (namespace, job, vendor))`);
  for (const q of ['0.5', '0.95', '0.99', '0.999']) {
    add(overview, `Database Latency p${Number(q) * 100}`, `histogram_quantile(${q}, sum(irate(django_db_query_duration_seconds_bucket{${F}}${R}) > 0) by (vendor, namespace, job, le))`);
  }
  add(overview, 'Top Database Errors (1w)', `round(topk(10, sum(increase(django_db_errors_total{${F}}[1w]) > 0) by (type)))`);
  add(overview, 'Cache Get Hits', `sum(rate(django_cache_get_hits_total{${F}}${R}) > 0) by (namespace, job, backend)`);
  add(overview, 'Cache Get Misses', `sum(rate(django_cache_get_misses_total{${F}}${R}) > 0) by (namespace, job, backend)`);

  const requests = 'Django / Requests / Overview';
  add(requests, 'Request Volume', `round(sum(rate(${REQ}{${F}, ${V}, ${M}}${R})), 0.001)`);
  add(requests, 'Success Rate (non 4xx-5xx)', `sum(rate(${RESP}{${F}, ${V}, ${M}, status!~"[4-5].*"}${R})) / sum(rate(${RESP}{${F}, ${V}, ${M}}${R}))`);
  add(requests, 'Success Rate (non 5xx)', `sum(rate(${RESP}{${F}, ${V}, ${M}, status!~"5.*"}${R})) / sum(rate(${RESP}{${F}, ${V}, ${M}}${R}))`);
  add(requests, 'Request Latency P95', `histogram_quantile(0.95, sum(irate(${LAT}{${F}, ${V}}${R})) by (job, le))`);
  add(requests, 'Request Body Size P95', `histogram_quantile(0.95, sum(rate(django_http_requests_body_total_bytes_bucket{${F}}${R})) by (job, le))`);
  add(requests, 'HTTP Exceptions [1h]', `round(sum(increase(django_http_exceptions_total_by_view_total{${F}, view!~"${IGN}"}[1h])), 0.001)`);
  add(requests, 'Requests by Method [1h]', `sum(rate(${REQ}{${F}, view!~"${IGN}"}[1h])) by (method)`);
  add(
    requests,
    'Responses by Status [1h]',
    `sum by (status_class)(label_replace(rate(${RESP}{${F}, ${V}, ${M}}[1h]), "status_class", "\${1}xx", "status", "([0-9]).*"))`,
  );
  add(requests, 'Top Views [1h]', `topk(10, sum(rate(${REQ}{${F}, view!~"${IGN}"}[1h])) by (view))`);
  for (const [row, adminMatcher] of [
    ['API & Other Views', `view!~"admin.*"`],
    ['Admin Views', `view=~"admin.*"`],
  ] as const) {
    for (const n of ['2', '4', '5']) {
      add(requests, `${row}: ${n}xx`, `round(sum(rate(${RESP}{${F}, ${V}, ${M}, status=~"${n}.*", ${adminMatcher}}${R}) > 0) by (namespace, job, view), 0.001)`);
    }
    for (const q of ['0.50', '0.95', '0.99']) {
      add(requests, `${row}: latency P${Number(q) * 100} [1h]`, `histogram_quantile(${q}, sum(rate(${LAT}{${F}, ${V}, ${M}, ${adminMatcher}}[1h]) > 0) by (namespace, job, view, le))`);
    }
  }
  add(
    requests,
    'Top Exceptions by View (1w)',
    `round(topk(10, sum by (namespace, job, view)(increase(django_http_exceptions_total_by_view_total{${F}, view!~"${IGN}"}[1w]) > 0)))`,
  );
  add(requests, 'Top Exceptions by Type (1w)', `round(topk(10, sum by (namespace, job, type)(increase(django_http_exceptions_total_by_type_total{${F}}[1w]) > 0)))`);
  add(requests, 'Top Responses by View (1w)', `round(topk(10, sum by (namespace, job, view)(increase(${RESP}{${F}, view!~"${IGN}"}[1w]) > 0)))`);
  add(
    requests,
    'Top Templates (1w)',
    `topk(10, round(sum(increase(django_http_responses_total_by_templatename_total{${F}, templatename!~"${TEMPLATES_IGNORED}"}[1w]) > 0) by (namespace, job, templatename)))`,
  );

  const byView = 'Django / Requests / By View';
  add(byView, 'Requests by View [1h]', `sum(rate(${REQ}{${F}, view!~"${IGN}", ${M}}[1h])) by (view)`);
  add(byView, 'Requests by Method [1h]', `sum(rate(${REQ}{${F}, view!~"${IGN}"}[1h])) by (method)`);
  add(byView, 'Responses by Status [1h]', `sum(rate(${RESP}{${F}, view!~"${IGN}", ${M}}[1h])) by (status)`);
  add(byView, 'Request Total', `round(sum(rate(${REQ}{${F}, ${V}, ${M}}${R}) > 0) by (job), 0.001)`);
  add(byView, 'Request Total 1 week ago', `round(sum(rate(${REQ}{${F}, ${V}, ${M}}${R} offset 1w) > 0) by (job), 0.001)`);
  for (const q of ['0.50', '0.95', '0.99']) {
    add(byView, `Latency Total P${Number(q) * 100}`, `histogram_quantile(${q}, sum(rate(${LAT}{${F}, ${V}, ${M}}${R})) by (job, le))`);
    add(byView, `Latency Total P${Number(q) * 100} 1 week ago`, `histogram_quantile(${q}, sum(rate(${LAT}{${F}, ${V}, ${M}}${R} offset 1w)) by (job, le))`);
  }
  add(byView, 'Success Rate (non 4xx-5xx)', `sum(rate(${RESP}{${F}, ${V}, ${M}, status!~"[4-5].*"}${R})) / sum(rate(${RESP}{${F}, ${V}, ${M}}${R}))`);
  for (const [panel, window] of [
    ['Request Rate vs 1-Day Average', '1d'],
    ['Request Rate vs 1-Hour Average', '1h'],
  ] as const) {
    add(
      byView,
      panel,
      `(round(sum(rate(${REQ}{${F}, ${V}, ${M}}${R}) > 0) by (job), 0.001) / clamp_min(avg_over_time((sum(rate(${REQ}{${F}, ${V}, ${M}}${R})) by (job))[${window}:]), 0.001)) * 100`,
    );
  }

  const models = 'Django / Models / Overview';
  const ops = [
    ['insert', 'inserts'],
    ['update', 'updates'],
    ['delete', 'deletes'],
  ] as const;
  add(
    models,
    'Distribution by operation [1h]',
    `sum by (operation)(${ops.map(([op, name]) => `label_replace(rate(django_model_${name}_total{${F}}[1h]), "operation", "${op}", "__name__", ".*")`).join(' or ')})`,
  );
  for (const [, name] of ops) {
    add(models, `${name} by model [1h]`, `topk(20, sum(rate(django_model_${name}_total{${F}}[1h])) by (model))`);
    add(models, `${name} timeline`, `round(sum(rate(django_model_${name}_total{${F}, model=~".*"}${R})) by (namespace, job, model), 0.001)`);
    add(models, `${name} weekly (1w)`, `round(topk(10, sum(increase(django_model_${name}_total{${F}}[1w]) > 0) by (namespace, job, model)))`);
  }
  return queries;
}

/** Panels that cannot show data here, with the reason; every other query must. */
export const MIXIN_EMPTY_HERE: Record<string, string> = {
  'Django / Requests / By View: Request Total 1 week ago': 'the server holds minutes of data, not a week',
  'Django / Requests / By View: Latency Total P50 1 week ago': 'the server holds minutes of data, not a week',
  'Django / Requests / By View: Latency Total P95 1 week ago': 'the server holds minutes of data, not a week',
  'Django / Requests / By View: Latency Total P99 1 week ago': 'the server holds minutes of data, not a week',
  'Django / Requests / Overview: Admin Views: 2xx': 'the example has no admin views',
  'Django / Requests / Overview: Admin Views: 4xx': 'the example has no admin views',
  'Django / Requests / Overview: Admin Views: 5xx': 'the example has no admin views',
  'Django / Requests / Overview: Admin Views: latency P50 [1h]': 'the example has no admin views',
  'Django / Requests / Overview: Admin Views: latency P95 [1h]': 'the example has no admin views',
  'Django / Requests / Overview: Admin Views: latency P99 [1h]': 'the example has no admin views',
};

/** The mixin's alert group `django`, with its default selector and thresholds. */
export const MIXIN_ALERTS: Record<string, string> = {
  DjangoMigrationsUnapplied: 'sum(django_migrations_unapplied_total{job="django"}) by (cluster, namespace, job) > 0',
  DjangoDatabaseException: 'sum(increase(django_db_errors_total{job="django"}[10m])) by (cluster, type, namespace, job) > 0',
  DjangoHighHttp4xxErrorRate: `sum(rate(${RESP}{job="django", status=~"4.*", view!~"${IGN}"}[5m])) by (cluster, namespace, job, view) / sum(rate(${RESP}{job="django", view!~"${IGN}"}[5m])) by (cluster, namespace, job, view) * 100 > 5`,
  DjangoHighHttp5xxErrorRate: `sum(rate(${RESP}{job="django", status=~"5.*", view!~"${IGN}"}[5m])) by (cluster, namespace, job, view) / sum(rate(${RESP}{job="django", view!~"${IGN}"}[5m])) by (cluster, namespace, job, view) * 100 > 5`,
};
