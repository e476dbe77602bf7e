// The benchmark harness still works: a few-second smoke run exits 0 and reports every variant.
// Timing goals are not asserted here; they live in the bench output (test/bench/results.md).
// The timeout is generous because the smoke run takes ~20 s alone but may share 2 cores with other tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ours = existsSync(fileURLToPath(new URL('../../dist/register.js', import.meta.url)));

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['test/bench/run.mjs', '--smoke'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('bench smoke run works and reports every variant', { timeout: 180_000 }, async () => {
  const { code, stdout, stderr } = await runSmoke();
  expect(code, `bench --smoke failed:\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`).toBe(0);
  const expected = ['bare', 'prom-client', 'prom-bundle', 'otel-stock', ...(ours ? ['ours-fast', 'ours-otel'] : [])];
  const scraped = expected.filter((v) => v !== 'bare');
  const section = (title: string) => stdout.split(`## ${title}`)[1]?.split('\n## ')[0] ?? '';
  for (const v of expected) {
    expect(section('Throughput'), `throughput row for ${v}`).toContain(`| ${v} |`);
    expect(section('Startup'), `startup row for ${v}`).toContain(`| ${v} |`);
  }
  // The memory phase measures our fast path alone (1M requests in a full run).
  if (ours) expect(section('Memory'), 'memory row for ours-fast').toContain('| ours-fast |');
  for (const v of scraped) expect(section('Scrape cost'), `scrape row for ${v}`).toContain(`| ${v} |`);
  if (!ours) expect(stdout).toContain('skipping ours-fast');
});
