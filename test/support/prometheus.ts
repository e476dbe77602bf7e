// A real Prometheus server for end-to-end tests: Debian's `prometheus` binary started on a free
// loopback port with a temporary TSDB and a config written for the test, queried through its HTTP
// API. The binary is required under CI=true (tests fail without it) and optional elsewhere.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? 'promtool';

/** Whether `bin --version` runs. */
export function installed(bin: string): boolean {
  return spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
}

export interface ScrapeTarget {
  /** host:port */
  address: string;
  /** Target labels, as a scrape config's `static_configs[].labels`. */
  labels: Record<string, string>;
}

/** A scrape job with settings of its own (scheme, authorization, basic_auth, tls_config, ...). */
export interface ScrapeJob {
  targets: ScrapeTarget[];
  /** Merged into the job's scrape config as given. */
  settings: Record<string, unknown>;
}

export interface PrometheusOptions {
  /** The scrape jobs: job name -> targets. */
  jobs: Record<string, ScrapeTarget[] | ScrapeJob>;
  /** More command-line flags, e.g. `--enable-feature=exemplar-storage`. */
  flags?: string[];
  /** Rule files (YAML text) loaded by the server, evaluated every second. */
  rules?: string[];
  scrapeIntervalSeconds?: number;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

export interface RunningPrometheus {
  url: string;
  /** Any HTTP API call (`/api/v1/...`): its `data`; throws unless the status is success. */
  api<T>(path: string): Promise<T>;
  /** An instant query now; throws on a PromQL error. */
  query(expr: string): Promise<Sample[]>;
  /** The values of `label` on the series `match` selects. */
  labelValues(label: string, match: string): Promise<string[]>;
  /** Active alerts (pending and firing). */
  alerts(): Promise<Alert[]>;
  /** Every target's scrape health, by its `instance` label. */
  targets(): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]>;
  /** Polls `check` until it returns true (or throws the last failure after `timeoutMs`). */
  waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** The server's own log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

function configYaml(options: PrometheusOptions, ruleFiles: string[]): string {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  // JSON is YAML: no serializer needed, and no quoting surprises.
  return JSON.stringify({
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: ruleFiles,
    scrape_configs: Object.entries(options.jobs).map(([job, spec]) => {
      const { targets, settings } = Array.isArray(spec) ? { targets: spec, settings: {} } : spec;
      return { job_name: job, ...settings, static_configs: targets.map((t) => ({ targets: [t.address], labels: t.labels })) };
    }),
  });
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'odm-prometheus-'));
  const ruleFiles = (options.rules ?? []).map((text, i) => {
    const file = join(dir, `rules-${i}.yaml`);
    writeFileSync(file, text);
    return file;
  });
  const config = join(dir, 'prometheus.yaml');
  writeFileSync(config, configYaml(options, ruleFiles));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.flags ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d));
  child.stderr!.on('data', (d: Buffer) => (log += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };

  const running: RunningPrometheus = {
    url,
    api,
    async query(expr) {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      if (data.resultType === 'scalar') {
        const [, v] = data.result as unknown as [number, string];
        return [{ metric: {}, value: Number(v) }];
      }
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    labelValues: (label, match) => api<string[]>(`/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`),
    alerts: async () => (await api<{ alerts: Alert[] }>('/api/v1/alerts')).alerts,
    targets: async () =>
      (await api<{ activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] }>('/api/v1/targets')).activeTargets,
    async waitFor(what, check, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        try {
          if (await check()) return;
          last = undefined;
        } catch (err) {
          last = err;
        }
        if (Date.now() > deadline) throw new Error(`Prometheus: ${what} not reached in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}\n${log}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };

  await running.waitFor('ready', async () => (await fetch(`${url}/-/ready`)).ok, 20_000).catch(async (err) => {
    await running.stop();
    throw err;
  });
  return running;
}
