// Writes the package's Grafana dashboards (examples/grafana/dashboards/*.json) from the compact
// definitions below. Every metric name comes from the compiled catalog (dist/views), so a renamed
// family changes the dashboards with it. `--write` writes the files; without it the committed
// files are compared with what would be written, and any that differ are named (exit 1).
// Run `npm run build` first.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { CACHE, DB, HTTP, MIGRATIONS, MODELS } from '../dist/views/index.js';
import { RUNTIME } from '../dist/views/runtime.js';

const DIR = new URL('../examples/grafana/dashboards/', import.meta.url);
const TAG = 'otel-django-metrics';
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** The views the django-mixin hides: unmatched URLs, health checks and the in-app scrape. */
const IGNORED_VIEWS = '<unnamed view>|health_check:health_check_home|prometheus-django-metrics';

const REQUESTS = HTTP.requestsByViewTransportMethod.name;
const RESPONSES = HTTP.responsesByStatusViewMethod.name;
const bucket = (family) => `${family.name}_bucket`;

// ---- PromQL -------------------------------------------------------------------------------------

const TARGET = 'namespace="$namespace", job=~"$job"';
const VIEWS = `view=~"$view", view!~"${IGNORED_VIEWS}"`;

/** `name{namespace, job, ...matchers}` */
const sel = (name, ...matchers) => `${name}{${[TARGET, ...matchers].join(', ')}}`;
const rate = (name, ...matchers) => `rate(${sel(name, ...matchers)}[$__rate_interval])`;
const increase = (name, ...matchers) => `increase(${sel(name, ...matchers)}[$__range])`;
const sum = (expr, by = []) => (by.length ? `sum by (${by.join(', ')}) (${expr})` : `sum(${expr})`);
const QUANTILES = [0.5, 0.95, 0.99];
const percentile = (q) => `p${Math.round(q * 100)}`;
const quantile = (q, bucketName, by = [], ...matchers) => `histogram_quantile(${q}, ${sum(rate(bucketName, ...matchers), [...by, 'le'])})`;
/** `part`, and 0 for each `whole` series that has no `part` series (a view that had no 5xx). */
const orZero = (part, whole) => `${part} or ${whole} * 0`;
/**
 * `part / whole`, where a `whole` series without a `part` (a view that had no 5xx) reads 0
 * instead of vanishing from the panel.
 */
const share = (part, whole) => `(${orZero(part, whole)}) / ${whole}`;

/** Responses of the selected views whose status matches `status` (a regex), per second. */
const responseRate = (status, by = []) => sum(rate(RESPONSES, VIEWS, `status=~"${status}"`), by);
const responseShare = (status, by = []) => share(responseRate(status, by), sum(rate(RESPONSES, VIEWS), by));

// ---- panels ------------------------------------------------------------------------------------

const target = (expr, legendFormat = '__auto') => ({ expr, legendFormat });

function panel(type, title, targets, { description, unit = 'short', w, h, options = {}, fieldConfig = {}, extra = {} }) {
  return {
    type,
    title,
    description,
    datasource: DATASOURCE,
    gridPos: { h, w },
    fieldConfig: { defaults: { unit, ...fieldConfig }, overrides: [] },
    options,
    targets: targets.map((t, i) => ({ datasource: DATASOURCE, refId: String.fromCharCode(65 + i), ...t })),
    ...extra,
  };
}

function timeseries(title, targets, { stack = false, w = 12, ...rest } = {}) {
  return panel('timeseries', title, targets, {
    w,
    h: 8,
    ...rest,
    fieldConfig: { custom: { fillOpacity: stack ? 30 : 10, showPoints: 'never', stacking: { mode: stack ? 'normal' : 'none', group: 'A' } } },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'], showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  });
}

/** One number per target; `thresholds` are the steps above the base colour. */
function stat(title, targets, { w = 6, thresholds = [], textMode = 'auto', ...rest } = {}) {
  return panel('stat', title, targets, {
    w,
    h: 4,
    ...rest,
    fieldConfig: { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, ...thresholds] } },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: textMode === 'name' ? 'none' : 'area',
      justifyMode: 'auto',
      textMode,
    },
  });
}

const instant = (t) => ({ ...t, instant: true, range: false });

/** Instant targets merged into one table; `columns` names each target's value column. */
function table(title, targets, columns, { w = 12, ...rest } = {}) {
  return panel('table', title, targets.map((t) => ({ ...instant(t), format: 'table' })), {
    w,
    h: 8,
    ...rest,
    options: { showHeader: true, cellHeight: 'sm' },
    extra: {
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true },
            renameByName: Object.fromEntries(columns.map((c, i) => [targets.length === 1 ? 'Value' : `Value #${String.fromCharCode(65 + i)}`, c])),
          },
        },
      ],
    },
  });
}

function piechart(title, targets, { w = 8, ...rest } = {}) {
  return panel('piechart', title, targets.map(instant), {
    w,
    h: 8,
    ...rest,
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      pieType: 'donut',
      legend: { displayMode: 'table', placement: 'right', values: ['value', 'percent'], showLegend: true },
      tooltip: { mode: 'single', sort: 'none' },
    },
  });
}

const row = (title, panels, { collapsed = false } = {}) => ({ title, panels, collapsed });

// ---- variables ---------------------------------------------------------------------------------

function queryVariable(name, label, query, { multi = false, allValue, regex = '' } = {}) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    regex,
    sort: 1,
    multi,
    includeAll: multi,
    ...(multi ? { allValue, current: { selected: true, text: ['All'], value: ['$__all'] } } : { current: {} }),
    options: [],
    hide: 0,
    skipUrlSync: false,
  };
}

/**
 * datasource, namespace, job and view, in that order. `source` is the family whose series list the
 * namespaces and jobs: the one the dashboard is about, so a namespace without it is not offered.
 */
function variables(source, extra = []) {
  return [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      // The data source examples/grafana/provisioning creates; any other can be picked.
      current: { selected: false, text: 'Prometheus', value: 'prometheus' },
      refresh: 1,
      regex: '',
      multi: false,
      includeAll: false,
      options: [],
      hide: 0,
      skipUrlSync: false,
    },
    queryVariable('namespace', 'Namespace', `label_values(${source}, namespace)`),
    queryVariable('job', 'Job', `label_values(${source}{namespace="$namespace"}, job)`, { multi: true, allValue: '.+' }),
    // `.*` for All: also the views of a job that has no response yet, and panels stay valid.
    queryVariable('view', 'View', `label_values(${RESPONSES}{${TARGET}}, view)`, {
      multi: true,
      allValue: '.*',
      regex: `/^(?!(?:${IGNORED_VIEWS})$).*$/`,
    }),
    ...extra,
  ];
}

// ---- dashboards --------------------------------------------------------------------------------

/** Request rate and 5xx rate of the selected views, to read a dashboard against its traffic. */
function selectedViewsRow() {
  return row('Requests of the selected views', [
    timeseries('Request rate by view', [target(sum(rate(REQUESTS, VIEWS), ['view']), '{{view}}')], {
      unit: 'reqps',
      description: 'Requests per second of the views selected above.',
    }),
    timeseries('5xx rate by view', [target(orZero(responseRate('5..', ['view']), sum(rate(RESPONSES, VIEWS), ['view'])), '{{view}}')], {
      unit: 'reqps',
      description: '5xx responses per second of the views selected above (0 for a view with traffic and no 5xx).',
    }),
  ]);
}

function requests() {
  const bodies = (q) => [
    target(quantile(q, bucket(HTTP.requestBodyBytes)), `requests ${percentile(q)}`),
    target(quantile(q, bucket(HTTP.responseBodyBytes)), `responses ${percentile(q)}`),
  ];
  const latency = (name, ...matchers) => QUANTILES.map((q) => target(quantile(q, name, [], ...matchers), percentile(q)));
  return {
    uid: 'odm-requests',
    title: 'Django on Node / Requests',
    description: 'Rate, errors and duration of the requests by view and method, response classes, body sizes, exceptions and templates.',
    variables: variables(RESPONSES),
    rows: [
      row('Overview', [
        stat('Request rate', [target(sum(rate(REQUESTS, VIEWS)), 'requests/s')], { w: 4, unit: 'reqps' }),
        stat('Success ratio (2xx, 3xx)', [target(responseShare('[23]..'), 'success')], {
          w: 4,
          unit: 'percentunit',
          description: 'Share of the responses of the selected views that are neither 4xx nor 5xx.',
        }),
        stat('4xx ratio', [target(responseShare('4..'), '4xx')], { w: 4, unit: 'percentunit', thresholds: [{ color: 'orange', value: 0.1 }] }),
        stat('5xx ratio', [target(responseShare('5..'), '5xx')], { w: 4, unit: 'percentunit', thresholds: [{ color: 'red', value: 0.05 }] }),
        stat('AJAX share', [target(`${sum(rate(HTTP.ajaxRequests.name))} / ${sum(rate(HTTP.requestsBefore.name))}`, 'AJAX')], {
          w: 4,
          unit: 'percentunit',
          description: 'Requests sent with X-Requested-With: XMLHttpRequest, among all requests.',
        }),
        stat('Streaming responses', [target(sum(rate(HTTP.streamingResponses.name)), 'streaming/s')], { w: 4, unit: 'reqps' }),
      ]),
      row('Rate, errors and duration by view and method', [
        timeseries('Request rate by view and method', [target(sum(rate(REQUESTS, VIEWS), ['view', 'method']), '{{view}} {{method}}')], { unit: 'reqps' }),
        timeseries('Success ratio by view and method', [target(responseShare('[23]..', ['view', 'method']), '{{view}} {{method}}')], {
          unit: 'percentunit',
          description: 'Share of the 2xx and 3xx responses.',
        }),
        timeseries(
          '4xx and 5xx ratios by view and method',
          [target(responseShare('4..', ['view', 'method']), '{{view}} {{method}} 4xx'), target(responseShare('5..', ['view', 'method']), '{{view}} {{method}} 5xx')],
          { unit: 'percentunit' },
        ),
        timeseries('Latency', latency(bucket(HTTP.latencyByViewMethod), VIEWS), {
          unit: 's',
          description: 'Quantiles of the view latency (routing to response) across the selected views.',
        }),
        timeseries('p95 latency by view and method', [target(quantile(0.95, bucket(HTTP.latencyByViewMethod), ['view', 'method'], VIEWS), '{{view}} {{method}}')], {
          unit: 's',
        }),
        table(
          'Views over the time range',
          [
            target(`round(${sum(increase(REQUESTS, VIEWS), ['view', 'method'])})`),
            target(`histogram_quantile(0.95, ${sum(`rate(${sel(bucket(HTTP.latencyByViewMethod), VIEWS)}[$__range])`, ['view', 'method', 'le'])})`),
            target(`round(${orZero(sum(increase(RESPONSES, VIEWS, 'status=~"5.."'), ['view', 'method']), sum(increase(RESPONSES, VIEWS), ['view', 'method']))})`),
          ],
          ['requests', 'p95 latency (s)', '5xx'],
        ),
      ]),
      row('Responses', [
        timeseries(
          'Responses by status class',
          [target(sum(`label_replace(${rate(RESPONSES, VIEWS)}, "class", "$1", "status", "(.).*")`, ['class']), '{{class}}xx')],
          { unit: 'reqps', stack: true },
        ),
        piechart('Responses by status over the time range', [target(sum(increase(RESPONSES, VIEWS), ['status']), '{{status}}')], { w: 6 }),
        piechart('Responses by status, all views', [target(sum(increase(HTTP.responsesByStatus.name), ['status']), '{{status}}')], {
          w: 6,
          description: 'Every response, routed or not.',
        }),
      ]),
      row('Bodies', [
        timeseries('Body size p50 and p95', [...bodies(0.5), ...bodies(0.95)], {
          unit: 'bytes',
        }),
        timeseries(
          'Body bytes per second',
          [target(sum(rate(`${HTTP.requestBodyBytes.name}_sum`)), 'requests'), target(sum(rate(`${HTTP.responseBodyBytes.name}_sum`)), 'responses')],
          { unit: 'Bps' },
        ),
      ]),
      row('Exceptions and templates', [
        timeseries('Exceptions by type', [target(sum(rate(HTTP.exceptionsByType.name), ['type']), '{{type}}')], { w: 8, unit: 'reqps' }),
        timeseries('Exceptions by view', [target(sum(rate(HTTP.exceptionsByView.name, VIEWS), ['view']), '{{view}}')], { w: 8, unit: 'reqps' }),
        table('Top templates', [target(`topk(10, ${sum(increase(HTTP.responsesByTemplate.name), ['templatename'])})`)], ['responses'], { w: 8 }),
      ]),
      row(
        'Before middlewares and per-view totals',
        [
          timeseries(
            'Requests and responses: before middlewares vs per view',
            [
              target(sum(rate(HTTP.requestsBefore.name)), 'requests before middlewares'),
              target(sum(rate(HTTP.responsesBefore.name)), 'responses before middlewares'),
              target(sum(rate(REQUESTS)), 'requests, all views'),
              target(sum(rate(RESPONSES)), 'responses, all views'),
            ],
            {
              unit: 'reqps',
              description: 'Every request counts before the middlewares; only routed requests count per view, so the gap is the unrouted ones (404s of unknown URLs).',
            },
          ),
          timeseries('Latency including middlewares', latency(bucket(HTTP.latencyIncludingMiddlewares)), { unit: 's' }),
          timeseries(
            'Requests without a known latency',
            [target(sum(rate(HTTP.unknownLatency.name)), 'by view'), target(sum(rate(HTTP.unknownLatencyIncludingMiddlewares.name)), 'including middlewares')],
            { w: 6, unit: 'reqps' },
          ),
          piechart('Requests by method', [target(sum(increase(HTTP.requestsByMethod.name), ['method']), '{{method}}')], { w: 6 }),
          piechart('Requests by transport', [target(sum(increase(HTTP.requestsByTransport.name), ['transport']), '{{transport}}')], { w: 6 }),
          piechart('Responses by charset', [target(sum(increase(HTTP.responsesByCharset.name), ['charset']), '{{charset}}')], { w: 6 }),
        ],
        { collapsed: true },
      ),
    ],
  };
}

function database() {
  const by = ['alias', 'vendor'];
  return {
    uid: 'odm-database',
    title: 'Django on Node / Database',
    description: 'Statements, their latency and errors, and new connections, by database alias and vendor.',
    variables: variables(DB.execute.name),
    rows: [
      selectedViewsRow(),
      row('Statements', [
        timeseries(
          'Statements per second',
          [target(sum(rate(DB.execute.name), by), '{{alias}} {{vendor}}'), target(sum(rate(DB.executeMany.name), by), '{{alias}} {{vendor}} executeMany')],
          { unit: 'ops', description: 'Every statement, and those of executeMany batches (counted in both).' },
        ),
        timeseries(
          'Statement latency by vendor',
          QUANTILES.map((q) => target(quantile(q, bucket(DB.queryDuration), ['vendor']), `{{vendor}} ${percentile(q)}`)),
          { unit: 's' },
        ),
        stat('Statements over the time range', [target(`round(${sum(increase(DB.execute.name))})`, 'statements')], { w: 8 }),
        stat(
          'Mean statement duration',
          [target(`${sum(rate(`${DB.queryDuration.name}_sum`))} / ${sum(rate(`${DB.queryDuration.name}_count`))}`, 'mean')],
          { w: 8, unit: 's' },
        ),
        stat('Error ratio', [target(share(sum(rate(DB.errors.name)), sum(rate(DB.execute.name))), 'errors')], {
          w: 8,
          unit: 'percentunit',
          thresholds: [{ color: 'orange', value: 0.01 }],
        }),
      ]),
      row('Errors', [
        timeseries('Errors by type', [target(sum(rate(DB.errors.name), ['vendor', 'type']), '{{vendor}} {{type}}')], { unit: 'ops' }),
        table('Errors over the time range', [target(`round(${sum(increase(DB.errors.name), ['alias', 'vendor', 'type'])})`)], ['errors']),
      ]),
      row('Connections', [
        timeseries('New connections by vendor', [target(sum(rate(DB.newConnections.name), by), '{{alias}} {{vendor}}')], {
          unit: 'ops',
          description: 'Connections opened: pools open few, so this shows pool growth and replacements.',
        }),
        timeseries('Connection errors by vendor', [target(sum(rate(DB.newConnectionErrors.name), by), '{{alias}} {{vendor}}')], { unit: 'ops' }),
      ]),
    ],
  };
}

function cache() {
  const by = ['backend'];
  return {
    uid: 'odm-cache',
    title: 'Django on Node / Cache',
    description: 'Cache reads by backend: gets, hits, misses and failures.',
    variables: variables(CACHE.get.name),
    rows: [
      selectedViewsRow(),
      row('Gets', [
        stat('Hit ratio over the time range', [target(`${sum(increase(CACHE.hits.name))} / ${sum(increase(CACHE.get.name))}`, 'hits')], {
          w: 12,
          unit: 'percentunit',
        }),
        stat('Failed gets over the time range', [target(`round(${sum(increase(CACHE.fail.name))})`, 'failures')], {
          w: 12,
          thresholds: [{ color: 'red', value: 1 }],
        }),
        timeseries('Gets per second by backend', [target(sum(rate(CACHE.get.name), by), '{{backend}}')], { unit: 'ops' }),
        timeseries('Hit ratio by backend', [target(share(sum(rate(CACHE.hits.name), by), sum(rate(CACHE.get.name), by)), '{{backend}}')], {
          unit: 'percentunit',
        }),
        timeseries(
          'Hits and misses by backend',
          [target(sum(rate(CACHE.hits.name), by), '{{backend}} hits'), target(sum(rate(CACHE.misses.name), by), '{{backend}} misses')],
          { unit: 'ops', stack: true },
        ),
        timeseries('Failures by backend', [target(sum(rate(CACHE.fail.name), by), '{{backend}}')], {
          unit: 'ops',
          description: 'Gets that failed (backend unreachable, timeout); the app reads them as misses.',
        }),
      ]),
    ],
  };
}

function models() {
  const operations = [
    ['Inserts', MODELS.inserts],
    ['Updates', MODELS.updates],
    ['Deletes', MODELS.deletes],
  ];
  return {
    uid: 'odm-models',
    title: 'Django on Node / Models',
    description: 'Inserts, updates and deletes of the registered models.',
    variables: variables(MODELS.inserts.name),
    rows: [
      selectedViewsRow(),
      row(
        'Writes per second',
        operations.map(([title, family]) => timeseries(`${title} by model`, [target(sum(rate(family.name), ['model']), '{{model}}')], { w: 8, unit: 'ops' })),
      ),
      row('Over the time range', [
        table(
          'Writes by model',
          operations.map(([, family]) => target(`round(${sum(increase(family.name), ['model'])})`)),
          operations.map(([title]) => title.toLowerCase()),
          { w: 16 },
        ),
        piechart(
          'Writes by operation',
          operations.map(([title, family]) => target(sum(increase(family.name)), title.toLowerCase())),
        ),
      ]),
    ],
  };
}

function migrations() {
  const count = (family) => `max by (connection) (${sel(family.name)})`;
  return {
    uid: 'odm-migrations',
    title: 'Django on Node / Migrations',
    description: 'Applied and unapplied migrations by database connection, as the processes last read them.',
    variables: variables(MIGRATIONS.applied.name),
    rows: [
      selectedViewsRow(),
      row('Migrations', [
        stat('Applied', [target(count(MIGRATIONS.applied), '{{connection}}')], { w: 12, thresholds: [] }),
        stat('Unapplied', [target(count(MIGRATIONS.unapplied), '{{connection}}')], { w: 12, thresholds: [{ color: 'red', value: 1 }] }),
        timeseries(
          'Applied and unapplied by connection',
          [target(count(MIGRATIONS.applied), '{{connection}} applied'), target(count(MIGRATIONS.unapplied), '{{connection}} unapplied')],
          { description: 'Every process reports the counts of the database it uses: the largest is the freshest.' },
        ),
        table('Unapplied by process', [target(`max by (job, instance, connection) (${sel(MIGRATIONS.unapplied.name)})`)], ['unapplied'], {
          description: 'A process whose count differs from the others has not re-read its migrations since a deploy.',
        }),
      ]),
    ],
  };
}

function runtime() {
  const INSTANCES = 'instance=~"$instance"';
  const perInstance = (family, ...matchers) => sum(sel(family.name, INSTANCES, ...matchers), ['instance']);
  const instanceVariable = queryVariable('instance', 'Instance', `label_values(${RUNTIME.versionInfo.name}{${TARGET}}, instance)`, {
    multi: true,
    allValue: '.+',
  });
  return {
    uid: 'odm-runtime',
    title: 'Django on Node / Runtime',
    description: 'The Node.js processes: CPU, memory, heap, event-loop lag, handles, garbage collection and file descriptors.',
    variables: variables(RUNTIME.versionInfo.name, [instanceVariable]),
    rows: [
      selectedViewsRow(),
      row('Processes', [
        stat('Uptime', [target(`time() - ${sel(RUNTIME.startTime.name, INSTANCES)}`, '{{instance}}')], { unit: 's' }),
        stat('Node.js version', [target(`count by (version) (${sel(RUNTIME.versionInfo.name, INSTANCES)})`, '{{version}}')], {
          textMode: 'name',
          description: 'The versions the selected processes run.',
        }),
        stat('Processes', [target(`count(${sel(RUNTIME.versionInfo.name, INSTANCES)})`, 'processes')]),
        stat('Open file descriptors', [target(sum(sel(RUNTIME.openFds.name, INSTANCES)), 'open')]),
        timeseries(
          'CPU',
          [
            target(sum(rate(RUNTIME.cpuUser.name, INSTANCES), ['instance']), '{{instance}} user'),
            target(sum(rate(RUNTIME.cpuSystem.name, INSTANCES), ['instance']), '{{instance}} system'),
          ],
          { unit: 'percentunit', stack: true, description: 'CPU seconds per second: 100% is one core.' },
        ),
        timeseries(
          'Memory',
          [
            target(perInstance(RUNTIME.residentMemory), '{{instance}} RSS'),
            target(perInstance(RUNTIME.heapSizeUsed), '{{instance}} heap used'),
            target(perInstance(RUNTIME.heapSizeTotal), '{{instance}} heap total'),
            target(perInstance(RUNTIME.externalMemory), '{{instance}} external'),
          ],
          { unit: 'bytes' },
        ),
        timeseries('Heap spaces used', [target(sum(sel(RUNTIME.heapSpaceSizeUsed.name, INSTANCES), ['space']), '{{space}}')], { unit: 'bytes', stack: true }),
        timeseries(
          'Open file descriptors by process',
          [target(perInstance(RUNTIME.openFds), '{{instance}} open'), target(`max(${sel(RUNTIME.maxFds.name, INSTANCES)})`, 'limit')],
          { description: 'Sockets, files and pipes held open, against the process limit.' },
        ),
      ]),
      row('Event loop', [
        timeseries(
          'Event-loop lag',
          [
            target(`max by (instance) (${sel(RUNTIME.eventLoopLagP50.name, INSTANCES)})`, '{{instance}} p50'),
            target(`max by (instance) (${sel(RUNTIME.eventLoopLagP99.name, INSTANCES)})`, '{{instance}} p99'),
            target(`max by (instance) (${sel(RUNTIME.eventLoopLagMax.name, INSTANCES)})`, '{{instance}} max'),
          ],
          { unit: 's', description: 'Delays of the event loop between two scrapes; an idle loop reads about 10 ms.' },
        ),
        timeseries(
          'Active handles and requests',
          [target(perInstance(RUNTIME.activeHandlesTotal), '{{instance}} handles'), target(perInstance(RUNTIME.activeRequestsTotal), '{{instance}} requests')],
          { description: 'libuv handles (sockets, servers) and requests (file system, DNS) keeping the process alive.' },
        ),
      ]),
      row('Garbage collection', [
        timeseries('GC time by kind', [target(sum(rate(`${RUNTIME.gcDuration.name}_sum`, INSTANCES), ['kind']), '{{kind}}')], {
          unit: 'percentunit',
          stack: true,
          description: 'Seconds spent in garbage collection per second.',
        }),
        timeseries('Collections by kind', [target(sum(rate(`${RUNTIME.gcDuration.name}_count`, INSTANCES), ['kind']), '{{kind}}')], { unit: 'ops' }),
      ]),
    ],
  };
}

// ---- Grafana JSON ------------------------------------------------------------------------------

/** Places panels left to right in rows of 24 columns, each row under its row header. */
function layout(rows) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const r of rows) {
    const header = { type: 'row', title: r.title, collapsed: r.collapsed, gridPos: { h: 1, w: 24, x: 0, y }, id: id++, panels: [] };
    panels.push(header);
    y += 1;
    let x = 0;
    let lineHeight = 0;
    let bottom = y;
    for (const p of r.panels) {
      if (x + p.gridPos.w > 24) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const placed = { ...p, id: id++, gridPos: { ...p.gridPos, x, y } };
      x += p.gridPos.w;
      lineHeight = Math.max(lineHeight, p.gridPos.h);
      bottom = y + lineHeight;
      // A collapsed row carries its panels; an expanded one is followed by them.
      if (r.collapsed) header.panels.push(placed);
      else panels.push(placed);
    }
    // A collapsed row takes one line; the next row starts right below its header.
    y = r.collapsed ? header.gridPos.y + 1 : bottom;
  }
  return panels;
}

function grafana(d) {
  return {
    annotations: { list: [] },
    description: d.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [{ title: 'Django on Node', type: 'dashboards', tags: [TAG], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false }],
    panels: layout(d.rows),
    refresh: '30s',
    schemaVersion: 39,
    tags: [TAG],
    templating: { list: d.variables },
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: '',
    title: d.title,
    uid: d.uid,
    version: 1,
  };
}

const DASHBOARDS = { requests, database, cache, models, migrations, runtime };

/** file name -> the text written */
function files() {
  return new Map(Object.entries(DASHBOARDS).map(([name, define]) => [`${name}.json`, `${JSON.stringify(grafana(define()), null, 2)}\n`]));
}

const generated = files();
if (process.argv.includes('--write')) {
  mkdirSync(DIR, { recursive: true });
  for (const [name, text] of generated) writeFileSync(new URL(name, DIR), text);
} else {
  const committed = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.json')) : [];
  const differ = [
    ...[...generated].filter(([name, text]) => !committed.includes(name) || readFileSync(new URL(name, DIR), 'utf8') !== text).map(([name]) => name),
    ...committed.filter((name) => !generated.has(name)),
  ];
  for (const name of differ) console.error(`examples/grafana/dashboards/${name} differs from what scripts/dashboards.mjs writes`);
  if (differ.length) {
    console.error('run: npm run build && node scripts/dashboards.mjs --write');
    process.exit(1);
  }
}
