// The shipped Prometheus artefacts (examples/prometheus/) through promtool, as a user's CI would run
// them: the alert rules and the example config check clean, both unit-test files pass, and the
// label sets the from-scrape tests feed the rules are the ones the express example really exposes.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { PG, reachable } from '../fixtures/db-services.mjs';
import { startExample, type RunningExample } from '../support/example-app.js';
import { parseExposition, valueOf, type Exposition } from '../support/exposition.js';
import { ROOT } from '../support/processes.js';
import { installed, PROMTOOL_BIN } from '../support/prometheus.js';
import { promtool } from '../support/promtool.js';
import { ALL_FAMILIES } from '../../views/index.js';
import { RUNTIME_FAMILIES } from '../../views/runtime.js';

const DIR = `${ROOT}examples/prometheus/`;
const RULES = `${DIR}alerts.yaml`;
const CONFIG = `${DIR}prometheus.yaml`;
const FROM_SCRAPE = `${DIR}alerts-from-scrape.test.yaml`;

const ALERTS = [
  'DjangoTargetDown',
  'DjangoHttp4xxRateHigh',
  'DjangoHttp5xxRateHigh',
  'DjangoDatabaseErrors',
  'DjangoMigrationsUnapplied',
  'DjangoCacheGetFailures',
  'NodejsEventLoopLagHigh',
];

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[];
}
interface ScrapeConfig {
  scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: Record<string, string> }[] }[];
}
interface UnitTestFile {
  tests: { name: string; input_series: { series: string }[] }[];
}

const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;
const rules = readYaml<RuleFile>(RULES);

const required = process.env.CI === 'true';
const hasPromtool = installed(PROMTOOL_BIN);

describe('the alert rules (examples/prometheus/alerts.yaml)', () => {
  test('one group, otel-django-metrics, with the 7 alerts, each with a severity and the 3 annotations', () => {
    expect(rules.groups.map((g) => g.name)).toEqual(['otel-django-metrics']);
    const [group] = rules.groups;
    expect(group!.rules.map((r) => r.alert)).toEqual(ALERTS);
    for (const rule of group!.rules) {
      expect(Object.keys(rule.labels), rule.alert).toEqual(['severity']);
      expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(['dashboard', 'description', 'summary']);
      expect(rule.annotations.dashboard, rule.alert).toMatch(/^\/d\/odm-(requests|database|cache|migrations|runtime)\?var-namespace=\{\{ \$labels\.namespace \}\}&var-job=\{\{ \$labels\.job \}\}/);
    }
  });

  test('every series an expression selects is a family of the catalog (or Prometheus\'s up), always with job="django"', () => {
    // The rules read counters and gauges only, whose sample name is the family name.
    const known = new Set([...ALL_FAMILIES, ...RUNTIME_FAMILIES].map((f) => f.name));
    const SELECTOR = /([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g;
    const exprs = rules.groups[0]!.rules.map((r) => r.expr);
    const selectors = exprs.flatMap((expr) => [...expr.matchAll(SELECTOR)]);
    expect(selectors.map((m) => m[1]).filter((name) => name !== 'up' && !known.has(name!))).toEqual([]);
    expect(selectors.filter((m) => !m[2]!.startsWith('job="django"')).map((m) => m[0])).toEqual([]);
    // A metric name without braces would escape both checks above.
    expect(exprs.map((expr) => expr.replace(SELECTOR, '')).filter((rest) => /\b(django_|nodejs_|process_|up\b)/.test(rest))).toEqual([]);
  });
});

describe.skipIf(!hasPromtool && !required)('promtool on the example artefacts', () => {
  test(`${PROMTOOL_BIN} is installed (Debian's prometheus package)`, () => {
    expect(hasPromtool).toBe(true);
  });

  test('promtool check rules: 7 rules', () => {
    expect(promtool(['check', 'rules', RULES])).toEqual({ status: 0, output: `Checking ${RULES}\n  SUCCESS: 7 rules found\n\n` });
  });

  test('promtool check config: the example config and its rule file', () => {
    expect(promtool(['check', 'config', CONFIG])).toEqual({
      status: 0,
      output:
        `Checking ${CONFIG}\n  SUCCESS: 1 rule files found\n SUCCESS: ${CONFIG} is valid prometheus config file syntax\n\n` +
        `Checking ${RULES}\n  SUCCESS: 7 rules found\n\n`,
    });
  });

  test.each(['alerts.test.yaml', 'alerts-from-scrape.test.yaml'])('promtool test rules %s', (name) => {
    const file = `${DIR}${name}`;
    expect(promtool(['test', 'rules', file])).toEqual({ status: 0, output: `Unit Testing:  ${file}\n  SUCCESS\n\n` });
  });
});

const REDIS_PORT = 6379;
const servicesUp = (await reachable(PG.port, PG.host)) && (await reachable(REDIS_PORT));
/** GETs of a cached item on the example whose Redis is unreachable. */
const FAILED_READS = 2;

describe.skipIf(!servicesUp && !required)('the from-scrape tests use label sets the express example exposes', () => {
  const running: RunningExample[] = [];
  let scrape: Exposition;
  let failingCache: Exposition;

  const send = async (app: RunningExample, path: string, body?: unknown): Promise<number> => {
    const init: RequestInit | undefined =
      body === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const res = await fetch(app.url(path), init);
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    const app = await startExample();
    running.push(app);
    const broken = await startExample({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    running.push(broken);
    // Each series the file uses: found and unknown items, a created item and a duplicate key
    // (IntegrityError), an exception, an unmatched path.
    const statuses = [
      await send(app, '/api/items/1'),
      await send(app, '/api/items/999'),
      await send(app, '/api/items', { id: 100, name: 'new' }),
      await send(app, '/api/items', { id: 1, name: 'dup' }),
      await send(app, '/api/boom'),
      await send(app, '/no/such/route'),
    ];
    expect(statuses).toEqual([200, 404, 201, 500, 500, 404]);
    // The app answers from the database while every cache read fails.
    for (let i = 0; i < FAILED_READS; i++) expect(await send(broken, '/api/items/1')).toBe(200);
    scrape = await app.scrape();
    failingCache = await broken.scrape();
  }, 180_000);
  afterAll(async () => {
    await Promise.all(running.map((app) => app.stop()));
  }, 60_000);

  test('PostgreSQL and Redis are reachable', () => {
    expect(servicesUp).toBe(true);
  });

  test('with Redis unreachable, every cache GET is counted as a failure', () => {
    expect(valueOf(failingCache, 'django_cache_get_total', { backend: 'redis' })).toBe(FAILED_READS);
    expect(valueOf(failingCache, 'django_cache_get_fail_total', { backend: 'redis' })).toBe(FAILED_READS);
  });

  test('every input series: the target labels of prometheus.yaml, plus a label set found in the scrape', () => {
    const [job] = readYaml<ScrapeConfig>(CONFIG).scrape_configs;
    const [target] = job!.static_configs;
    const targetLabels = { job: job!.job_name, instance: target!.targets[0]!, ...target!.labels };
    const inputs = readYaml<UnitTestFile>(FROM_SCRAPE).tests.flatMap((t) => t.input_series.map((s) => s.series));
    // The file's series cover every rule but DjangoTargetDown (up is Prometheus's own).
    expect(new Set(inputs.map((s) => s.slice(0, s.indexOf('{'))))).toEqual(
      new Set([
        'django_http_responses_total_by_status_view_method_total',
        'django_db_errors_total',
        'django_migrations_unapplied_total',
        'django_cache_get_total',
        'django_cache_get_fail_total',
        'nodejs_eventloop_lag_p99_seconds',
      ]),
    );
    const absent: string[] = [];
    for (const series of inputs) {
      // A series selector is an exposition line without its value.
      const [sample] = parseExposition(`${series} 0`).samples;
      const { job: j, instance, namespace, cluster, ...own } = sample!.labels;
      expect({ job: j, instance, namespace, cluster }, series).toEqual(targetLabels);
      // The cache series as the example with Redis away exposes them, the rest from the other one.
      const exposed = sample!.name.startsWith('django_cache_') ? failingCache : scrape;
      if (valueOf(exposed, sample!.name, own) === undefined) absent.push(series);
    }
    expect(absent).toEqual([]);
  });
});
