import type { InstrumentationContext } from '../instrumentation-context.js';
import { onceLogger } from '../log.js';
import { Mysql2MetricsInstrumentation } from './mysql2.js';
import { PgMetricsInstrumentation } from './pg.js';
import { DbRecorder } from './recorder.js';
import { DB_STATE, setRuntime, type DbRuntime } from './runtime.js';

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
    const instrumentations = [new PgMetricsInstrumentation(), new Mysql2MetricsInstrumentation()];
    for (const i of instrumentations) i.enable();
    return () => {
      for (const i of instrumentations) i.disable();
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
