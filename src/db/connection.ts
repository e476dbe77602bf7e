import { aliasFromRules, DEFAULT_ALIAS, type DbTarget } from './aliases.js';
import { DB_STATE, type DbRuntime, type Vendor } from './runtime.js';

/** The `type` label of a failed statement, from the driver's error. */
export type Classify = (err: unknown, runtime: DbRuntime) => string;

/** A driver connection the hooks have seen: its pool, its target, and its label values, cached. */
export class TrackedConnection {
  private labels: readonly string[] = [];
  private generation = -1;

  constructor(
    readonly vendor: Vendor,
    /** The driver's own connection object (pg `Client`, mysql2 `Connection`). */
    readonly handle: object,
    readonly target: DbTarget,
    readonly classify: Classify,
    /** The pool that created it, once known: its `setDbAlias` applies to the connection too. */
    public pool?: object,
  ) {
    DB_STATE.connections.set(handle, this);
  }

  /** `[alias, vendor]`, recomputed only after a `setDbAlias` call or a restart. */
  labelValues(): readonly string[] {
    if (this.generation !== DB_STATE.generation) {
      this.labels = [this.alias(), this.vendor];
      this.generation = DB_STATE.generation;
    }
    return this.labels;
  }

  /** `setDbAlias` on the connection, else on its pool, else the first PROMETHEUS_DB_ALIASES match, else `default`. */
  private alias(): string {
    const { overrides, runtime } = DB_STATE;
    return (
      overrides.get(this.handle) ??
      (this.pool && overrides.get(this.pool)) ??
      aliasFromRules(runtime?.rules ?? [], this.target) ??
      DEFAULT_ALIAS
    );
  }
}
