// The variants under test. Ours and stock OTel use the bare app plus a --import preload, exactly
// as a user would run them; the two peers are in-app middleware. Ours name their checkout (`tree`),
// whose built store the scrape phase also measures on its own (lib/store-memory.mjs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const ROOT = here('../../../');
export const OUR_PRELOAD = here('../../../dist/register.js');

// Scrape phase only: lift our per-metric series cap so all ~24k series are kept, as prom-client keeps them.
export const OURS_SCRAPE_CAP = 50_000;
const oursScrapeEnv = { PROMETHEUS_MAX_SERIES_PER_METRIC: String(OURS_SCRAPE_CAP) };

export const VARIANTS = [
  { name: 'bare', label: 'bare express 5 (reference)', app: 'bare.mjs' },
  {
    name: 'ours-fast', label: 'otel-django-metrics, fast path', app: 'bare.mjs', ours: true, tree: ROOT,
    preload: OUR_PRELOAD, metricsPortEnv: 'PROMETHEUS_METRICS_EXPORT_PORT', scrapeEnv: oursScrapeEnv, memory: true,
    env: { PROMETHEUS_HTTP_INSTRUMENTATION: 'fast', PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1' },
  },
  {
    // The same without the runtime metrics: what they cost per request.
    name: 'ours-noruntime', label: 'otel-django-metrics, fast path, PROMETHEUS_RUNTIME_METRICS=false', app: 'bare.mjs', ours: true, tree: ROOT,
    preload: OUR_PRELOAD, metricsPortEnv: 'PROMETHEUS_METRICS_EXPORT_PORT', scrapeEnv: oursScrapeEnv,
    env: { PROMETHEUS_HTTP_INSTRUMENTATION: 'fast', PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1', PROMETHEUS_RUNTIME_METRICS: 'false' },
  },
  {
    name: 'ours-otel', label: 'otel-django-metrics, instrumentation-http path', app: 'bare.mjs', ours: true, tree: ROOT,
    preload: OUR_PRELOAD, metricsPortEnv: 'PROMETHEUS_METRICS_EXPORT_PORT', scrapeEnv: oursScrapeEnv,
    env: { PROMETHEUS_HTTP_INSTRUMENTATION: 'otel', PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1' },
  },
  // BENCH_BASELINE=<another checkout, built>: its preload as one more variant, so a change is
  // compared with the code before it in the same interleaved run.
  ...(process.env.BENCH_BASELINE
    ? [{
        name: 'ours-baseline', label: `otel-django-metrics at ${process.env.BENCH_BASELINE}, fast path`, app: 'bare.mjs', ours: true, tree: process.env.BENCH_BASELINE,
        preload: `${process.env.BENCH_BASELINE}/dist/register.js`, metricsPortEnv: 'PROMETHEUS_METRICS_EXPORT_PORT', scrapeEnv: oursScrapeEnv,
        env: { PROMETHEUS_HTTP_INSTRUMENTATION: 'fast', PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1' },
      }]
    : []),
  { name: 'prom-client', label: 'hand-written prom-client middleware (counter + histogram)', app: 'prom-client.mjs', metricsPath: '/metrics' },
  { name: 'prom-bundle', label: 'express-prom-bundle', app: 'prom-bundle.mjs', metricsPath: '/metrics' },
  {
    name: 'otel-stock', label: 'stock OTel: MeterProvider + PrometheusExporter + http + express instrumentation',
    app: 'bare.mjs', preload: here('../apps/otel-stock.preload.mjs'), metricsPortEnv: 'BENCH_METRICS_PORT',
  },
];

export const appPath = (variant) => here(`../apps/${variant.app}`);
export const hasScrape = (variant) => Boolean(variant.metricsPortEnv || variant.metricsPath);

/**
 * Variants to run: --only filters (bare is always kept: every ratio is against it), and ours are
 * skipped with a reason while dist/register.js has not been built.
 */
export function selectVariants(only) {
  const known = new Set(VARIANTS.map((v) => v.name));
  for (const name of only ?? []) if (!known.has(name)) throw new Error(`unknown variant "${name}" (known: ${[...known].join(', ')})`);
  const skipped = [];
  const selected = VARIANTS.filter((v) => {
    if (only && v.name !== 'bare' && !only.includes(v.name)) return false;
    if (v.ours && !existsSync(v.preload)) {
      skipped.push({ name: v.name, reason: `${v.preload} not found (run npm run build there)` });
      return false;
    }
    return true;
  });
  return { selected, skipped };
}
