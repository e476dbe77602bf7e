import type { FamilyDef } from '../../views/family.js';
import { RUNTIME } from '../../views/runtime.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { countBy, oneValue } from './points.js';

/** Node's undocumented lists of the libuv handles and requests, which prom-client reads. */
interface LibuvLists {
  _getActiveHandles(): unknown[];
  _getActiveRequests(): unknown[];
}
const libuv = process as unknown as LibuvLists;

/** prom-client names each object by its constructor's name and skips objects without one. */
function* classNames(objects: readonly unknown[]): Generator<string> {
  for (const o of objects) if (o && (o as object).constructor !== undefined) yield (o as object).constructor.name;
}

function byClass(byType: FamilyDef, total: FamilyDef, objects: readonly unknown[]): FamilySnapshot[] {
  return [countBy(byType, classNames(objects)), oneValue(total, objects.length)];
}

export function resources(): FamilySnapshot[] {
  const names = process.getActiveResourcesInfo();
  return [countBy(RUNTIME.activeResources, names), oneValue(RUNTIME.activeResourcesTotal, names.length)];
}

export function handles(): FamilySnapshot[] {
  return byClass(RUNTIME.activeHandles, RUNTIME.activeHandlesTotal, libuv._getActiveHandles());
}

export function requests(): FamilySnapshot[] {
  return byClass(RUNTIME.activeRequests, RUNTIME.activeRequestsTotal, libuv._getActiveRequests());
}
