import { createRequire } from 'node:module';
import { expect, test } from 'vitest';
import { enableTypeormModels } from '../../src/models/typeorm.js';

const require = createRequire(import.meta.url);

/** Each class and method the TypeORM hooks wrap, as the package exports them. */
const PATCHED: Array<[file: string, exported: string, method: string]> = [
  ['typeorm/data-source/DataSource.js', 'DataSource', 'initialize'],
  ['typeorm/persistence/SubjectExecutor.js', 'SubjectExecutor', 'broadcastBeforeEventsForAll'],
  ['typeorm/query-builder/InsertQueryBuilder.js', 'InsertQueryBuilder', 'execute'],
  ['typeorm/query-builder/UpdateQueryBuilder.js', 'UpdateQueryBuilder', 'execute'],
  ['typeorm/query-builder/SoftDeleteQueryBuilder.js', 'SoftDeleteQueryBuilder', 'execute'],
  ['typeorm/query-builder/DeleteQueryBuilder.js', 'DeleteQueryBuilder', 'execute'],
];

/** Whether each patched method is wrapped now (shimmer marks its wrappers `__wrapped`). */
function wrapped(): Record<string, boolean> {
  return Object.fromEntries(
    PATCHED.map(([file, exported, method]) => {
      const prototype = (require(file) as Record<string, { prototype: Record<string, { __wrapped?: boolean }> }>)[exported]!.prototype;
      return [`${exported}#${method}`, prototype[method]!.__wrapped === true];
    }),
  );
}

const all = (value: boolean) => Object.fromEntries(PATCHED.map(([, exported, method]) => [`${exported}#${method}`, value]));

test('TypeORM 0.3 loaded after the hooks start gets each method wrapped; disabling unwraps them all', () => {
  const disable = enableTypeormModels();
  require('typeorm');
  expect(wrapped()).toEqual(all(true));
  disable();
  expect(wrapped()).toEqual(all(false));
});
