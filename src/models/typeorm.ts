import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain } from '../contain.js';
import type { AnyMethod } from '../db/own-methods.js';
import { commonJsExports } from '../otel/commonjs-exports.js';
import type { Disable } from '../otel/package-loads.js';
import { patchExecute, tallyAffected, tallyInsert } from './typeorm-bulk.js';
import { patchBroadcast, patchInitialize } from './typeorm-subscriber.js';

/** Tested with TypeORM 0.3.31; the file layout and the methods below are 0.3's. */
const TYPEORM_VERSIONS = ['>=0.3.0 <0.4.0'];

/** Each patch: a file of the package, the class it exports, the prototype method wrapped. */
const PATCHES: ReadonlyArray<[file: string, exported: string, method: string, wrapper: (original: AnyMethod) => AnyMethod]> = [
  // Instance writes: the subscriber, installed in each DataSource, and the persistence path's mark.
  ['data-source/DataSource.js', 'DataSource', 'initialize', patchInitialize],
  ['persistence/SubjectExecutor.js', 'SubjectExecutor', 'broadcastBeforeEventsForAll', patchBroadcast],
  // Bulk writes, counted with PROMETHEUS_EXPORT_MODEL_BULK on.
  ['query-builder/InsertQueryBuilder.js', 'InsertQueryBuilder', 'execute', patchExecute(tallyInsert)],
  ['query-builder/UpdateQueryBuilder.js', 'UpdateQueryBuilder', 'execute', patchExecute(tallyAffected('update'))],
  ['query-builder/SoftDeleteQueryBuilder.js', 'SoftDeleteQueryBuilder', 'execute', patchExecute(tallyAffected('update'))],
  ['query-builder/DeleteQueryBuilder.js', 'DeleteQueryBuilder', 'execute', patchExecute(tallyAffected('delete'))],
];

type Prototype = Record<string, AnyMethod>;

/** The prototype of the class a TypeORM file exports by name. */
function prototypeOf(exports: unknown, exported: string): Prototype {
  return ((commonJsExports(exports) as Record<string, { prototype: Prototype }>)[exported]!).prototype;
}

/**
 * TypeORM's entity writes: a subscriber pushed into every DataSource once `initialize()`
 * resolved counts registered entities' instance writes; its bulk writes are counted at the query
 * builders. Patching runs inside the app's `require`/`import`: a failure is contained and the
 * file stays as it was.
 */
class TypeormModelsInstrumentation extends InstrumentationBase {
  constructor() {
    super('otel-django-metrics/typeorm-models', '0.1.0', { enabled: false });
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const files = PATCHES.map(
      ([file, exported, method, wrapper]) =>
        new InstrumentationNodeModuleFile(
          `typeorm/${file}`,
          TYPEORM_VERSIONS,
          (exports: unknown) => {
            contain('typeorm patch', () => this._wrap(prototypeOf(exports, exported), method, wrapper));
            return exports;
          },
          (exports?: unknown) => {
            if (exports) contain('typeorm unpatch', () => this._unwrap(prototypeOf(exports, exported), method));
          },
        ),
    );
    return [new InstrumentationNodeModuleDefinition('typeorm', TYPEORM_VERSIONS, undefined, undefined, files)];
  }
}

/** Installs the TypeORM hooks (when the app loads `typeorm`); returns the function that removes them. */
export function enableTypeormModels(): Disable {
  const instrumentation = new TypeormModelsInstrumentation();
  instrumentation.enable();
  return () => instrumentation.disable();
}
