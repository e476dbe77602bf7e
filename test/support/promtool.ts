// promtool, Prometheus's own checker (Debian's `prometheus` package), run on texts and files the
// tests produce: its verdicts are the ones a user's CI would see.
import { spawnSync } from 'node:child_process';
import { PROMTOOL_BIN } from './prometheus.js';

export interface PromtoolRun {
  status: number | null;
  /** stdout and stderr together, as promtool prints its findings on either. */
  output: string;
}

export function promtool(args: string[], input?: string): PromtoolRun {
  const run = spawnSync(PROMTOOL_BIN, args, { input, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** `promtool check metrics` on an exposition: its findings, one per line (none: empty). */
export function metricFindings(exposition: string): string[] {
  return promtool(['check', 'metrics'], exposition)
    .output.split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * The names `promtool check metrics` flags that are kept on purpose, with the reason: dashboards
 * and alerts in use read them under these names.
 */
export const PARITY_FINDINGS: Record<string, string> = {
  django_migrations_applied_total: 'a gauge named _total, as django-prometheus names it',
  django_migrations_unapplied_total: 'a gauge named _total, as django-prometheus names it',
  nodejs_active_handles_total: "a gauge named _total, as prom-client's default metrics name it",
  nodejs_active_requests_total: "a gauge named _total, as prom-client's default metrics name it",
  nodejs_active_resources_total: "a gauge named _total, as prom-client's default metrics name it",
};

/** promtool's finding for a parity name. */
export const PARITY_FINDING = 'non-counter metrics should not have "_total" suffix';

/** Whether a `check metrics` finding is one of PARITY_FINDINGS, under any namespace prefix. */
export function isParityFinding(line: string): boolean {
  const [name = '', ...finding] = line.split(' ');
  return finding.join(' ') === PARITY_FINDING && Object.keys(PARITY_FINDINGS).some((parity) => name === parity || name.endsWith(`_${parity}`));
}
