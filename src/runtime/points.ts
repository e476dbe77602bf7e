import type { FamilyDef } from '../../views/family.js';
import type { FamilySnapshot, ValuePoint } from '../store/snapshot.js';

/** A counter's or gauge's snapshot. Runtime families are never namespaced. */
export function valueFamily(def: FamilyDef, points: readonly ValuePoint[]): FamilySnapshot {
  return { def, name: def.name, points } as FamilySnapshot;
}

/** A family with one unlabelled series. */
export function oneValue(def: FamilyDef, value: number): FamilySnapshot {
  return valueFamily(def, [{ labels: [], value }]);
}

/** One series per distinct name, valued by how often it occurs, in first-seen order. */
export function countBy(def: FamilyDef, names: Iterable<string>): FamilySnapshot {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return valueFamily(def, Array.from(counts, ([name, value]) => ({ labels: [name], value })));
}
