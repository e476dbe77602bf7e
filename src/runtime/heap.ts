import { getHeapSpaceStatistics } from 'node:v8';
import { RUNTIME } from '../../views/runtime.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { oneValue, valueFamily } from './points.js';

export function heap(): FamilySnapshot[] {
  const { heapTotal, heapUsed, external } = process.memoryUsage();
  return [oneValue(RUNTIME.heapSizeTotal, heapTotal), oneValue(RUNTIME.heapSizeUsed, heapUsed), oneValue(RUNTIME.externalMemory, external)];
}

/** Per V8 heap space, named as prom-client names it: the space name up to `_space` (`old_space` is `old`). */
export function heapSpaces(): FamilySnapshot[] {
  const spaces = getHeapSpaceStatistics().map((s) => ({ labels: [s.space_name.substring(0, s.space_name.indexOf('_space'))], s }));
  return [
    valueFamily(RUNTIME.heapSpaceSizeTotal, spaces.map(({ labels, s }) => ({ labels, value: s.space_size }))),
    valueFamily(RUNTIME.heapSpaceSizeUsed, spaces.map(({ labels, s }) => ({ labels, value: s.space_used_size }))),
    valueFamily(RUNTIME.heapSpaceSizeAvailable, spaces.map(({ labels, s }) => ({ labels, value: s.space_available_size }))),
  ];
}
