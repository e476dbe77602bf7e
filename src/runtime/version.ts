import { RUNTIME } from '../../views/runtime.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { valueFamily } from './points.js';

/** `version` as Node gives it (`v20.20.2`), and its numeric parts. */
export function version(): FamilySnapshot[] {
  const parts = process.version.slice(1).split('.').map((part) => String(Number(part)));
  return [valueFamily(RUNTIME.versionInfo, [{ labels: [process.version, ...parts.slice(0, 3)], value: 1 }])];
}
