import { readdirSync, readFileSync } from 'node:fs';
import { RUNTIME } from '../../views/runtime.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { oneValue } from './points.js';

/** Open descriptors, less the one the listing itself opened (closed again by now). Linux only. */
export function openFds(): FamilySnapshot[] {
  return [oneValue(RUNTIME.openFds, readdirSync('/proc/self/fd').length - 1)];
}

/** The soft limit on open files; `unlimited` reads as NaN, as in prom-client. Linux only. */
export function maxFds(): FamilySnapshot[] {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  if (line === undefined) throw new Error('/proc/self/limits has no "Max open files"');
  return [oneValue(RUNTIME.maxFds, Number(line.split(/  +/)[1]))];
}
