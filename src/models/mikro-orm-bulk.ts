/**
 * MikroORM's native writes (`insert`, `insertMany`, `nativeUpdate`, `nativeDelete`) bypass the unit
 * of work and fire no event: with PROMETHEUS_EXPORT_MODEL_BULK they count their rows after success.
 */
import { safe } from '../contain.js';
import type { AnyMethod } from '../db/own-methods.js';
import { whenFulfilled } from './entity-bulk.js';
import { modelOfEntity, type EntityManagerLike, type EntityMeta } from './mikro-orm-entities.js';
import { currentModelRecorder, type ModelOperation } from './recorder.js';

/** How a native write names its entity and reports its rows. */
interface NativeWrite {
  readonly operation: ModelOperation;
  /** The rows written, from the call's arguments and its result. */
  rows(args: readonly unknown[], result: unknown): unknown;
}

/**
 * `insertMany` returns one primary key per row only where the database returns them all (not
 * on MySQL), so its rows are the rows it was given.
 */
export const NATIVE_WRITES: Readonly<Record<string, NativeWrite>> = {
  insert: { operation: 'insert', rows: () => 1 },
  insertMany: { operation: 'insert', rows: (args) => (Array.isArray(args[1]) ? args[1] : args[0] as unknown[]).length },
  nativeUpdate: { operation: 'update', rows: (_args, affected) => affected },
  nativeDelete: { operation: 'delete', rows: (_args, affected) => affected },
};

/** `EntityManager#<method>` counting its rows once it succeeded; the write itself runs untouched. */
export function countingNativeWrite(method: string, original: AnyMethod): AnyMethod {
  const write = NATIVE_WRITES[method]!;
  return function (this: unknown) {
    const result = Reflect.apply(original, this, arguments);
    if (currentModelRecorder()?.bulk === true) watch(this as EntityManagerLike, [...arguments], result, write);
    return result;
  };
}

const watch = safe('mikro-orm model bulk watch', (em: EntityManagerLike, args: unknown[], result: unknown, write: NativeWrite) => {
  whenFulfilled(result, (value) => countRows(em, args, value, write));
});

const countRows = safe('mikro-orm model bulk count', (em: EntityManagerLike, args: unknown[], value: unknown, write: NativeWrite) => {
  const model = modelOfEntity(entityOf(em, args), em);
  const rows = write.rows(args, value);
  if (model !== undefined && typeof rows === 'number') currentModelRecorder()?.countBulk(model, write.operation, rows);
});

/** The entity a native write names: a class, schema or name, or (data omitted) the entity instances given. */
function entityOf(em: EntityManagerLike, args: unknown[]): EntityMeta | undefined {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const name = args[1] === undefined ? (first as object | undefined)?.constructor : first;
  return em.getMetadata().find(name);
}
