import { ALL_FAMILIES, SELF_FAMILIES, type FamilyDef } from '../../views/index.js';
import { RUNTIME_FAMILIES } from '../../views/runtime.js';

/**
 * Every family a process may publish, in the order one process exposes them (the django families,
 * then the runtime collector's, then the package's own): states name families by catalog name,
 * and the merge exposes them in this order whatever order the states came in.
 */
const ORDERED: readonly FamilyDef[] = [...ALL_FAMILIES, ...RUNTIME_FAMILIES, ...SELF_FAMILIES];

const BY_NAME = new Map(ORDERED.map((def) => [def.name, def]));
const ORDER = new Map(ORDERED.map((def, i) => [def.name, i]));

/** The definition of a published family; `undefined` for a name this version does not know. */
export function catalogDef(name: string): FamilyDef | undefined {
  return BY_NAME.get(name);
}

/** Sort key: a family's position in the catalog (by name: a family the app reshaped keeps its place). */
export function catalogOrder(def: FamilyDef): number {
  return ORDER.get(def.name) ?? ORDERED.length;
}
