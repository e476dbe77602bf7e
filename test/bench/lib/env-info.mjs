// What the report header states about the run: date, machine, Node and package versions.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadAverage } from './machine.mjs';
import { ROOT } from './variants.mjs';

const PACKAGES = [
  'express', 'prom-client', 'express-prom-bundle', 'autocannon', '@opentelemetry/sdk-metrics',
  '@opentelemetry/exporter-prometheus', '@opentelemetry/instrumentation-http', '@opentelemetry/instrumentation-express',
];

const version = (dir) => {
  try { return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version; } catch { return '?'; }
};

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? '?';
}

function commit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'no commit';
}

export function environmentInfo() {
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    nproc: os.availableParallelism(),
    cpu: cpuModel(),
    loadAverage: loadAverage(),
    project: `otel-django-metrics ${version(ROOT)} (${commit()})`,
    packages: PACKAGES.map((p) => `${p} ${version(join(ROOT, 'node_modules', p))}`),
  };
}
