// The shipped Grafana dashboards and provisioning files, checked without Grafana: generated from
// scripts/dashboards.mjs, the variables and data source every dashboard needs, only names the
// package exposes, every query valid PromQL (promtool), and provisioning that finds them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { ALL_FAMILIES, type FamilyDef } from '../../views/index.js';
import { RUNTIME_FAMILIES } from '../../views/runtime.js';
import { loadDashboards, panelQueries, substitute, variableOptions, variableQueries, variableQuery, type Dashboard, type Panel, type Variable } from '../support/grafana.js';
import { ROOT } from '../support/processes.js';
import { installed, PROMTOOL_BIN } from '../support/prometheus.js';
import { promtool } from '../support/promtool.js';

const DASHBOARDS = loadDashboards();
const IGNORED_VIEWS = ['<unnamed view>', 'health_check:health_check_home', 'prometheus-django-metrics'];
const RESPONSES = 'django_http_responses_total_by_status_view_method_total';

/** Every series name the package exposes: counters and gauges as named, histograms by their three sample names. */
const seriesNames = (families: readonly FamilyDef[]) =>
  families.flatMap((f) => (f.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => f.name + s) : [f.name]));
const EXPOSED = new Set(seriesNames([...ALL_FAMILIES, ...RUNTIME_FAMILIES]));

const STRING = /"(?:[^"\\]|\\.)*"/g;
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/**
 * The metric names a PromQL expression selects, each with its matchers (text inside the braces,
 * `undefined` for a bare name): identifiers that are neither functions (followed by `(`), nor
 * keywords, nor label names of a grouping clause, nor inside strings and ranges.
 */
function selectors(expr: string): { name: string; matchers: string | undefined }[] {
  const strings: string[] = [];
  const masked = expr
    .replace(STRING, (s) => `"${strings.push(s) - 1}"`)
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const unmask = (text: string) => text.replace(/"(\d+)"/g, (_, i: string) => strings[Number(i)]!);
  const found: { name: string; matchers: string | undefined }[] = [];
  for (const m of masked.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\(|\{([^}]*)\})?/g)) {
    const [, name, follows, matchers] = m;
    // A number's exponent or a label name inside braces never starts a match here: braces are consumed whole.
    if (follows === '(' || KEYWORDS.has(name!)) continue;
    found.push({ name: name!, matchers: matchers === undefined ? undefined : unmask(matchers) });
  }
  return found;
}

/** Panel queries and variable queries of every dashboard, with where they come from. */
const EVERY_QUERY = DASHBOARDS.flatMap((d) => [
  ...panelQueries(d).map((q) => ({ where: `${d.file} ${q.panel} ${q.refId}`, expr: q.expr, panel: true })),
  ...variableQueries(d).map((v) => ({ where: `${d.file} variable ${v.name}`, expr: /^label_values\((.+),\s*\w+\)$/.exec(v.query)?.[1] ?? '', panel: false })),
]);

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const variable = (d: Dashboard, name: string) => d.templating.list.find((v) => v.name === name) as Variable;

describe('scripts/dashboards.mjs', () => {
  test('the committed dashboards are exactly what it writes', () => {
    // On failure: `npm run build && node scripts/dashboards.mjs --write`.
    const run = spawnSync(process.execPath, ['scripts/dashboards.mjs'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('the dashboards', () => {
  test('six, with the uids the alert rules link to', () => {
    expect(Object.fromEntries(DASHBOARDS.map((d) => [d.file, d.uid]))).toEqual({
      'cache.json': 'odm-cache',
      'database.json': 'odm-database',
      'migrations.json': 'odm-migrations',
      'models.json': 'odm-models',
      'requests.json': 'odm-requests',
      'runtime.json': 'odm-runtime',
    });
  });

  test.each(DASHBOARDS.map((d) => [d.file, d] as const))('%s: settings', (_, d) => {
    expect(d.title).toMatch(/^Django on Node \/ [A-Z][a-z]+$/);
    expect({
      schemaVersion: d.schemaVersion,
      editable: d.editable,
      graphTooltip: d.graphTooltip,
      time: d.time,
      refresh: d.refresh,
      tags: d.tags,
    }).toEqual({
      schemaVersion: 39,
      editable: true,
      graphTooltip: 1,
      time: { from: 'now-1h', to: 'now' },
      refresh: '30s',
      tags: ['otel-django-metrics'],
    });
  });

  test.each(DASHBOARDS.map((d) => [d.file, d] as const))('%s: datasource, namespace, job and view, in that order', (_, d) => {
    const list = d.templating.list;
    expect(list.slice(0, 4).map((v) => v.name)).toEqual(['datasource', 'namespace', 'job', 'view']);
    const [datasource, namespace, job, view] = list as [Variable, Variable, Variable, Variable];
    expect({ type: datasource.type, query: datasource.query }).toEqual({ type: 'datasource', query: 'prometheus' });

    const source = /^label_values\((\w+), namespace\)$/.exec(variableQueries(d)[0]!.query)?.[1];
    expect(source && EXPOSED.has(source), `${d.file}: namespace reads ${variableQueries(d)[0]!.query}`).toBe(true);
    const settings = (v: Variable) => ({ type: v.type, query: variableQuery(v), multi: v.multi, includeAll: v.includeAll, allValue: v.allValue, hide: v.hide });
    expect(settings(namespace)).toEqual({ type: 'query', query: `label_values(${source}, namespace)`, multi: false, includeAll: false, allValue: undefined, hide: 0 });
    expect(settings(job)).toEqual({ type: 'query', query: `label_values(${source}{namespace="$namespace"}, job)`, multi: true, includeAll: true, allValue: '.+', hide: 0 });
    expect(settings(view)).toEqual({
      type: 'query',
      query: `label_values(${RESPONSES}{namespace="$namespace", job=~"$job"}, view)`,
      multi: true,
      includeAll: true,
      allValue: '.*',
      hide: 0,
    });
    // Any further variable can be left at All, so a link that sets only these four shows data.
    for (const extra of list.slice(4)) expect({ name: extra.name, includeAll: extra.includeAll }).toEqual({ name: extra.name, includeAll: true });
  });

  test("the view variable's regex hides exactly the ignored views", () => {
    const offered = ['/', '/api/items/:id', ...IGNORED_VIEWS, 'admin:index', '/health_check:health_check_home', '<unnamed view>x'];
    for (const d of DASHBOARDS) {
      expect(variableOptions(variable(d, 'view'), offered), d.file).toEqual(['/', '/api/items/:id', 'admin:index', '/health_check:health_check_home', '<unnamed view>x']);
    }
  });

  test('every panel and target reads the ${datasource} variable', () => {
    for (const d of DASHBOARDS) {
      for (const p of allPanels(d.panels).filter((p) => p.type !== 'row')) {
        expect(p.datasource, `${d.file} ${p.title}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(p.targets?.length, `${d.file} ${p.title}`).toBeGreaterThan(0);
        for (const t of p.targets!) expect(t.datasource, `${d.file} ${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
      for (const v of d.templating.list.filter((v) => v.type === 'query')) {
        expect((v as unknown as { datasource: unknown }).datasource, `${d.file} ${v.name}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
    }
  });

  test('every query reads only series the package exposes', () => {
    const unknown = EVERY_QUERY.flatMap((q) => selectors(q.expr).filter((s) => !EXPOSED.has(s.name)).map((s) => `${q.where}: ${s.name}`));
    expect(unknown).toEqual([]);
    expect(EVERY_QUERY.filter((q) => selectors(q.expr).length === 0).map((q) => q.where)).toEqual([]);
  });

  test('every panel selector has namespace="$namespace" and job=~"$job"; windows are $__rate_interval or $__range', () => {
    const problems: string[] = [];
    for (const q of EVERY_QUERY.filter((q) => q.panel)) {
      for (const s of selectors(q.expr)) {
        const matchers = (s.matchers ?? '').split(/,\s*/);
        if (!matchers.includes('namespace="$namespace"') || !matchers.includes('job=~"$job"')) problems.push(`${q.where}: ${s.name}{${s.matchers ?? ''}}`);
      }
      for (const [window] of q.expr.replace(STRING, '""').matchAll(/\[[^\]]*\]/g)) if (window !== '[$__rate_interval]' && window !== '[$__range]') problems.push(`${q.where}: ${window}`);
    }
    expect(problems).toEqual([]);
  });

  test('together they read all 34 django families', () => {
    const read = new Set(EVERY_QUERY.flatMap((q) => selectors(q.expr).map((s) => s.name)));
    expect(ALL_FAMILIES.filter((f) => !seriesNames([f]).some((n) => read.has(n))).map((f) => f.name)).toEqual([]);
  });
});

describe('selectors(), the name check above', () => {
  test('finds names inside functions, aggregations and binary operations, and nothing else', () => {
    expect(
      selectors(
        'sum by (view, le) (rate(a_bucket{job=~"$job", x="by(y)"}[$__rate_interval])) / on (job) group_left (z) b or label_replace(c{d="e"}, "f", "$1", "g", "(.)") * 0 and time() - offset_total',
      ),
    ).toEqual([
      { name: 'a_bucket', matchers: 'job=~"$job", x="by(y)"' },
      { name: 'b', matchers: undefined },
      { name: 'c', matchers: 'd="e"' },
      { name: 'offset_total', matchers: undefined },
    ]);
  });
});

describe('substitute(), Grafana interpolation', () => {
  const values = { ns: 'shop', one: { values: ['/api/items/:id'] }, two: { values: ['a.b', 'c'] }, all: { allValue: '.+' } } as const;

  test('single, multi and All values in every syntax, built-ins, unknown names kept', () => {
    expect(substitute('x{a="$ns", b="${ns}", c="[[ns]]"}', values)).toBe('x{a="shop", b="shop", c="shop"}');
    expect(substitute('x{v=~"$one", w=~"$two", j=~"${all}"}', values)).toBe('x{v=~"/api/items/:id", w=~"(a\\\\.b|c)", j=~".+"}');
    expect(substitute('${two:regex} [[two:regex]] ${all:regex}', values)).toBe('(a\\.b|c) (a\\.b|c) .+');
    expect(substitute('rate(x[$__rate_interval]) increase(x[$__range]) $__interval', values)).toBe('rate(x[1m]) increase(x[1h]) 15s');
    expect(substitute('label_replace(x, "c", "$1", "s", "(.).*") $nope', values)).toBe('label_replace(x, "c", "$1", "s", "(.).*") $nope');
  });
});

const promtoolAvailable = installed(PROMTOOL_BIN);
const required = process.env.CI === 'true';

describe.skipIf(!promtoolAvailable && !required)('every query is valid PromQL (promtool check rules)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'odm-dashboards-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`${PROMTOOL_BIN} is installed (Debian's prometheus package)`, () => {
    expect(promtoolAvailable).toBe(true);
  });

  test('each panel query, as Grafana sends it, parses', () => {
    const choices = { datasource: 'prometheus', namespace: 'shop', job: { allValue: '.+' }, view: { values: ['/api/items/:id', '/'] }, instance: { allValue: '.+' } };
    const queries = DASHBOARDS.flatMap((d) => panelQueries(d).map((q) => ({ ...q, dashboard: d.uid })));
    // One recording rule per query: promtool parses each expression and names the failing rule.
    const rules = {
      groups: [
        {
          name: 'dashboards',
          rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: substitute(q.expr, choices), labels: { panel: `${q.dashboard} ${q.panel} ${q.refId}` } })),
        },
      ],
    };
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, JSON.stringify(rules));
    const run = promtool(['check', 'rules', file]);
    expect(run.output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(run.status).toBe(0);
  });
});

describe('provisioning (examples/grafana/provisioning)', () => {
  const yaml = (path: string) => parse(readFileSync(`${ROOT}examples/grafana/provisioning/${path}`, 'utf8'));
  const datasources = yaml('datasources/prometheus.yaml');
  const providerFile = readFileSync(`${ROOT}examples/grafana/provisioning/dashboards/otel-django-metrics.yaml`, 'utf8');
  const dashboards = parse(providerFile);

  test('one default Prometheus data source, uid prometheus, at http://prometheus:9090', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(datasources.datasources[0]).toMatchObject({ name: 'Prometheus', type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
  });

  test("the data source's timeInterval is the example Prometheus's scrape interval", () => {
    const prometheus = parse(readFileSync(`${ROOT}examples/prometheus/prometheus.yaml`, 'utf8'));
    expect(datasources.datasources[0].jsonData.timeInterval).toBe(prometheus.global.scrape_interval);
  });

  test("every dashboard's datasource variable starts on the provisioned data source", () => {
    const [ds] = datasources.datasources;
    for (const d of DASHBOARDS) {
      const v = variable(d, 'datasource');
      expect({ query: v.query, current: { text: v.current?.text, value: v.current?.value } }, d.file).toEqual({ query: ds.type, current: { text: ds.name, value: ds.uid } });
    }
  });

  test('one file provider loading the mounted dashboards folder into "Django on Node"', () => {
    expect(dashboards.apiVersion).toBe(1);
    expect(dashboards.providers).toHaveLength(1);
    expect(dashboards.providers[0]).toMatchObject({ type: 'file', folder: 'Django on Node', options: { path: '/var/lib/grafana/dashboards/otel-django-metrics' } });
    // The command in the file's header mounts the dashboards where the provider reads them, and
    // the provisioning folder (this file and the data source) where Grafana looks for it.
    const mounts = Object.fromEntries([...providerFile.matchAll(/-v \.\/(\S+):(\S+)/g)].map((m) => [m[1], m[2]]));
    expect(mounts).toEqual({
      'examples/grafana/provisioning': '/etc/grafana/provisioning',
      'examples/grafana/dashboards': dashboards.providers[0].options.path,
    });
  });
});
