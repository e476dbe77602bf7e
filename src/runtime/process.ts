import { readFileSync } from 'node:fs';
import { RUNTIME } from '../../views/runtime.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { oneValue } from './points.js';

/** CPU time since the process started, as the other Prometheus clients count it (prom-client counts from its own start). */
export function cpu(): FamilySnapshot[] {
  const { user, system } = process.cpuUsage();
  return [oneValue(RUNTIME.cpuUser, user / 1e6), oneValue(RUNTIME.cpuSystem, system / 1e6), oneValue(RUNTIME.cpu, (user + system) / 1e6)];
}

// Fixed when this module loads, rounded to the second, as prom-client computes it.
const START_TIME = Math.round(Date.now() / 1000 - process.uptime());

export function startTime(): FamilySnapshot[] {
  return [oneValue(RUNTIME.startTime, START_TIME)];
}

const STATUS_FIELD = /^(VmSize|VmRSS|VmData):\s*(\d+) kB$/gm;

/**
 * Resident, virtual and data-segment sizes from /proc/self/status (a kernel table read, which
 * never blocks). Without /proc (not Linux), only the resident size, as prom-client does.
 */
export function memory(): FamilySnapshot[] {
  if (process.platform !== 'linux') return [oneValue(RUNTIME.residentMemory, process.memoryUsage.rss())];
  const bytes = new Map<string, number>();
  for (const [, field, kb] of readFileSync('/proc/self/status', 'utf8').matchAll(STATUS_FIELD)) bytes.set(field!, Number(kb) * 1024);
  const read = (field: string): number => {
    const value = bytes.get(field);
    if (value === undefined) throw new Error(`/proc/self/status has no ${field}`);
    return value;
  };
  return [oneValue(RUNTIME.residentMemory, read('VmRSS')), oneValue(RUNTIME.virtualMemory, read('VmSize')), oneValue(RUNTIME.heapBytes, read('VmData'))];
}
