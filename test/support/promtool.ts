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
