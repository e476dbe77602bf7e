/**
 * The shape of one catalog entry. A family is one `# TYPE` block of the exposition.
 * Everything the exposition prints about a family (name, HELP, type, labels, buckets)
 * comes from an entry like this; nothing else in the code spells a metric name.
 */
export type FamilyType = 'counter' | 'histogram' | 'gauge';

/** Bucket layouts: the configurable latency list (E4) or the fixed body-size list (E5). */
export type BucketLayout = 'latency' | 'body';

export interface FamilyDef {
  /** Exposed name without namespace, exactly as django-prometheus exposes it (counters end in `_total`). */
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  /** Label names in declared order. */
  readonly labels: readonly string[];
  readonly buckets?: BucketLayout;
  /** Families that read 0 from startup when they have no labels (E8). Labelled families never do. */
  readonly group: 'http' | 'db' | 'cache' | 'models' | 'migrations';
}

export function family(def: FamilyDef): FamilyDef {
  return Object.freeze({ ...def, labels: Object.freeze([...def.labels]) });
}

/**
 * The name django-prometheus's own code sees as `metric._name`: prometheus_client strips one
 * trailing `_total` from counters, so `django_http_requests_total_by_method_total` is
 * `django_http_requests_total_by_method` there.
 */
export function djangoName(def: FamilyDef): string {
  return def.type === 'counter' ? def.name.slice(0, -'_total'.length) : def.name;
}
