/**
 * The shape of one catalog entry. A family is one `# TYPE` block of the exposition.
 * Everything the exposition prints about a family (name, HELP, type, labels, buckets)
 * comes from an entry like this; nothing else in the code spells a metric name.
 */
export type FamilyType = 'counter' | 'histogram' | 'gauge';

/** Bucket layouts: the configurable latency list (E4), the fixed body-size list (E5), or explicit bounds. */
export type BucketLayout = 'latency' | 'body' | readonly number[];

/**
 * How one family's series from several processes become one (multi-process aggregation), as
 * prom-client's `aggregator`: `sum` adds values (and histogram buckets, sums and counts), `max`,
 * `min` and `average` combine values, `first` keeps the first process's value (facts that are
 * the same everywhere, such as a version), `omit` drops the family from the merge (per-process
 * facts whose combination means nothing).
 */
export type MergeRule = 'sum' | 'max' | 'min' | 'average' | 'first' | 'omit';

export interface FamilyDef {
  /** Exposed name without namespace, exactly as django-prometheus exposes it (counters end in `_total`). */
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  /** Label names in declared order. */
  readonly labels: readonly string[];
  readonly buckets?: BucketLayout;
  /** The django groups get the namespace prefix; `runtime` and `self` (the package's own) families never do. */
  readonly group: 'http' | 'db' | 'cache' | 'models' | 'migrations' | 'runtime' | 'self';
  /** Cross-process merge rule: counters and histograms always sum; every gauge declares its own. */
  readonly merge: MergeRule;
}

type FamilyInput = Omit<FamilyDef, 'merge'> & ({ type: 'counter' | 'histogram'; merge?: 'sum' } | { type: 'gauge'; merge: MergeRule });

export function family(def: FamilyInput): FamilyDef {
  return Object.freeze({ ...def, merge: def.merge ?? 'sum', labels: Object.freeze([...def.labels]) });
}

/**
 * The name django-prometheus's own code sees as `metric._name`: prometheus_client strips one
 * trailing `_total` from counters, so `django_http_requests_total_by_method_total` is
 * `django_http_requests_total_by_method` there.
 */
export function djangoName(def: FamilyDef): string {
  return def.type === 'counter' ? def.name.slice(0, -'_total'.length) : def.name;
}

const derived = new WeakMap<FamilyDef, Map<string, FamilyDef>>();

/**
 * A catalog family with the app's extra label names after its own and, for a histogram, its own
 * bucket bounds (`configure()`). The same arguments give the same object, so that definitions
 * derived in different places (the registry, the multi-process merge) compare equal.
 */
export function deriveFamily(def: FamilyDef, extraLabels: readonly string[], bounds?: readonly number[]): FamilyDef {
  if (extraLabels.length === 0 && bounds === undefined) return def;
  const key = `${extraLabels.join('\u0000')}\u0001${bounds?.join(',') ?? ''}`;
  let byKey = derived.get(def);
  if (byKey === undefined) derived.set(def, (byKey = new Map()));
  let found = byKey.get(key);
  if (found === undefined) {
    found = Object.freeze({ ...def, labels: Object.freeze([...def.labels, ...extraLabels]), ...(bounds ? { buckets: Object.freeze([...bounds]) } : {}) });
    byKey.set(key, found);
  }
  return found;
}

/** The extra label names a derived family carries beyond its catalog definition's. */
export function extraLabelsOf(def: FamilyDef, catalog: FamilyDef): readonly string[] {
  return def.labels.slice(catalog.labels.length);
}
