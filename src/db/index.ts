import { createRequire } from 'node:module';
import { contain } from '../contain.js';
import type { InstrumentationContext } from '../instrumentation-context.js';
import type { DriverInstrumentation } from './driver-instrumentation.js';
import { DbRecorder } from './recorder.js';
import { DB_STATE, setRuntime, type DbRuntime } from './runtime.js';

// The driver hooks load with their driver (src/otel/package-loads.ts): require, to do it synchronously.
const require = createRequire(import.meta.url);

/** Each driver's packages, and its hooks' loader. */
const DRIVERS: ReadonlyArray<[packages: string[], load: () => DriverInstrumentation]> = [
  [['pg', 'pg-pool'], () => new (require('./pg.js') as typeof import('./pg.js')).PgMetricsInstrumentation()],
  [['mysql2'], () => new (require('./mysql2.js') as typeof import('./mysql2.js')).Mysql2MetricsInstrumentation()],
  [['better-sqlite3'], () => new (require('./better-sqlite3.js') as typeof import('./better-sqlite3.js')).BetterSqlite3MetricsInstrumentation()],
];

/**
 * Starts the pg, mysql2 and better-sqlite3 hooks that feed the 6 DB families. Counts, errors and
 * durations all come from these hooks (not from OTel's instrumentation-pg/-mysql2, whose hooks see no client
 * object for `setDbAlias`, no promise rejection and no failed connect; they may run alongside for
 * spans). Returns the function that disables them. Never throws: a failure is contained.
 */
export function enableDbInstrumentation(context: InstrumentationContext): () => void {
  return contain('db instrumentation start', () => start(context)) ?? (() => {});
}

function start(context: InstrumentationContext): () => void {
  const runtime: DbRuntime = {
    recorder: new DbRecorder(context.registry),
    rules: context.config.dbAliases,
    detailedPgErrors: context.config.dbErrorType === 'detailed',
  };
  setRuntime(runtime);
  const disables = DRIVERS.map(([packages, load]) =>
    context.activate(packages, () => {
      const instrumentation = load();
      instrumentation.enable();
      return () => instrumentation.disable();
    }),
  );
  return () => {
    for (const disable of disables) disable();
    if (DB_STATE.runtime === runtime) setRuntime(undefined);
  };
}
