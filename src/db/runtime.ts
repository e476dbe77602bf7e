import type { DbAliasRule } from '../config.js';
import type { TrackedConnection } from './connection.js';
import type { DbRecorder } from './recorder.js';

export type Vendor = 'postgresql' | 'mysql' | 'sqlite';

/** What the driver hooks need while the distribution runs. */
export interface DbRuntime {
  readonly recorder: DbRecorder;
  readonly rules: readonly DbAliasRule[];
  /** `PROMETHEUS_DB_ERROR_TYPE=detailed`. */
  readonly detailedPgErrors: boolean;
}

interface DbState {
  /** `setDbAlias` targets (pools, clients, connections) and their alias. */
  readonly overrides: WeakMap<object, string>;
  /** Bumped by every alias or runtime change, so connections recompute their cached labels. */
  generation: number;
  runtime: DbRuntime | undefined;
  /** Driver connections the hooks have seen, by the driver's own object (for `executeMany`). */
  readonly connections: WeakMap<object, TrackedConnection>;
}

/**
 * Process-global, like the distribution's own slot: aliases set through one loaded copy of the
 * package (or before `start()`) are seen by the hooks of another.
 */
const SLOT = Symbol.for('otel-django-metrics.db');

type Holder = { [SLOT]?: DbState };

function state(): DbState {
  const holder = globalThis as Holder;
  return (holder[SLOT] ??= { overrides: new WeakMap(), generation: 0, runtime: undefined, connections: new WeakMap() });
}

export const DB_STATE: DbState = state();

export function setRuntime(runtime: DbRuntime | undefined): void {
  DB_STATE.runtime = runtime;
  DB_STATE.generation++;
}
