import { safe } from '../contain.js';
import type { AnyMethod } from '../db/own-methods.js';
import { whenFulfilled } from './entity-bulk.js';
import { registeredNameOf } from './entity-classes.js';
import type { ModelRecorder } from './recorder.js';
import { currentModelRecorder } from './recorder.js';

/** A write query builder's state, as far as counting reads it. */
interface ExpressionMap {
  readonly callListeners?: unknown;
  readonly mainAlias?: { readonly hasMetadata?: unknown; readonly metadata?: { readonly target?: unknown } };
  readonly valuesSet?: unknown;
  /** Set by `orUpdate` (an upsert); `onConflict` is its older string form (`""` when unused). */
  readonly onUpdate?: unknown;
  readonly onConflict?: unknown;
}

interface QueryBuilder {
  readonly expressionMap?: ExpressionMap;
}

/** Counts a bulk write's rows once it succeeded, from the builder and what `execute()` fulfilled with. */
export type Tally = (recorder: ModelRecorder, model: string, builder: ExpressionMap, result: unknown) => void;

/**
 * Rows sent by an INSERT: TypeORM reports no affected count for inserts. An upsert's rows count as
 * updates, since TypeORM does not say which branch each row took.
 */
export const tallyInsert: Tally = (recorder, model, builder) => {
  const values = builder.valuesSet;
  const rows = Array.isArray(values) ? values.length : values === undefined || values === null ? 0 : 1;
  recorder.countBulk(model, isUpsert(builder) ? 'update' : 'insert', rows);
};

function isUpsert(builder: ExpressionMap): boolean {
  const { onUpdate, onConflict } = builder;
  return (typeof onUpdate === 'object' && onUpdate !== null) || (typeof onConflict === 'string' && /\bDO\s+UPDATE\b/i.test(onConflict));
}

/** UPDATE (soft deletes and restores too) and DELETE: the `affected` count, when the driver reports one. */
export const tallyAffected =
  (operation: 'update' | 'delete'): Tally =>
  (recorder, model, _builder, result) => {
    const affected = (result as { affected?: unknown } | null)?.affected;
    if (typeof affected === 'number') recorder.countBulk(model, operation, affected);
  };

/**
 * A write query builder's `execute()`: with PROMETHEUS_EXPORT_MODEL_BULK on, a bulk write of a
 * registered entity counts its rows once it succeeded. The persistence path's own builders run
 * with `callListeners(false)` (their rows were counted by the subscriber) and are left out.
 */
export function patchExecute(tally: Tally): (original: AnyMethod) => AnyMethod {
  return (original) =>
    function execute(this: unknown) {
      const result = Reflect.apply(original, this, arguments);
      watch(this as QueryBuilder, result, tally);
      return result;
    };
}

const watch = safe('typeorm bulk', (builder: QueryBuilder, result: unknown, tally: Tally) => {
  const recorder = currentModelRecorder();
  const map = builder.expressionMap;
  if (recorder?.bulk !== true || map === undefined || map.callListeners === false || map.mainAlias?.hasMetadata !== true) return;
  const name = registeredNameOf(map.mainAlias.metadata?.target);
  if (name !== undefined) whenFulfilled(result, (value) => count(recorder, name, map, value, tally));
});

const count = safe('typeorm bulk count', (recorder: ModelRecorder, model: string, map: ExpressionMap, value: unknown, tally: Tally) => tally(recorder, model, map, value));
