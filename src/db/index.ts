import { createRequire } from 'node:module';
import type { InstrumentationContext } from '../instrumentation-context.js';
import { onceLogger } from '../log.js';
import type { DriverInstrumentation } from './driver-instrumentation.js';
import { DbRecorder } from './recorder.js';
import { DB_STATE, setRuntime, type DbRuntime } from './runtime.js';

// The driver hooks load with their driver (src/otel/package-loads.ts): require, to do it synchronously.
const require = createRequire(import.meta.url);

/** Each driver's packages, and its hooks' loader. */
const DRIVERS: ReadonlyArray<[packages: string[], load: () => DriverInstrumentation]> = [
  [['pg', 'pg-pool'], () => new (require('./pg.js') as typeof import('./pg.js')).PgMetricsInstrumentation()],
  [['mysql2'], () => new (require('./mysql2.js') as typeof import('./mysql2.js')).Mysql2MetricsInstrumentation()],
];

/**
 * Starts the pg and mysql2 hooks that feed the 6 DB families. Counts, errors and durations all
 * come from these hooks (not from OTel's instrumentation-pg/-mysql2, whose hooks see no client
 * object for `setDbAlias`, no promise rejection and no failed connect; they may run alongside for
 * spans). Returns the function that disables them. Never throws: a failure is one log line.
 */
export function enableDbInstrumentation(context: InstrumentationContext): () => void {
  const warnOnce = onceLogger(context.log);
  try {
    const runtime: DbRuntime = {
      recorder: new DbRecorder(context.registry),
      rules: context.config.dbAliases,
      detailedPgErrors: context.config.dbErrorType === 'detailed',
      hookFailed: (where, err) => warnOnce(where, `db instrumentation failed in ${where}; ignored: ${describe(err)}`),
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
  } catch (err) {
    context.log(`db instrumentation not started: ${describe(err)}`);
    return () => {};
  }
}

/** One line (the package's log convention): the error and where it was thrown. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const frame = err.stack?.split('\n')[1]?.trim();
  return frame ? `${err.name}: ${err.message} (${frame})` : `${err.name}: ${err.message}`;
}
