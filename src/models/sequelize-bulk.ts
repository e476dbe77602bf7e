import { safe } from '../contain.js';
import { whenFulfilled } from './entity-bulk.js';
import { registeredClassOf } from './entity-classes.js';
import { currentModelRecorder, type ModelRecorder } from './recorder.js';
import { modelNameOf } from './registrations.js';
import { wrapStatic } from './sequelize-statics.js';

/** Counts a bulk method's affected rows from the value its promise fulfilled with. */
type Tally = (recorder: ModelRecorder, model: string, value: unknown) => void;

/**
 * Sequelize 6's bulk statics and where each reports its rows. The bulk hooks cannot count:
 * `afterBulkUpdate`/`afterBulkDestroy` get the options only, never the affected rows.
 */
const BULK_METHODS: ReadonlyArray<[method: string, tally: Tally]> = [
  // The instances built, ignored duplicates included.
  ['bulkCreate', (r, m, value) => r.countBulk(m, 'insert', Array.isArray(value) ? value.length : 0)],
  // `[affectedCount]` or `[affectedCount, rows]`.
  ['update', (r, m, value) => r.countBulk(m, 'update', Array.isArray(value) ? Number(value[0]) : 0)],
  // The affected count (paranoid models: the rows given a deletion time).
  ['destroy', (r, m, value) => r.countBulk(m, 'delete', Number(value))],
  ['restore', (r, m, value) => r.countBulk(m, 'update', Number(value))],
  // `[[rows or null, affectedCount]]`; `decrement` goes through `increment`.
  ['increment', (r, m, value) => r.countBulk(m, 'update', Array.isArray(value) && Array.isArray(value[0]) ? Number(value[0][1]) : 0)],
  // `[instance, created]`: `created` is true or false on MySQL/MariaDB, null on PostgreSQL (unknown: an update).
  ['upsert', (r, m, value) => r.countBulk(m, Array.isArray(value) && value[1] === true ? 'insert' : 'update', 1)],
];

/**
 * Wraps the bulk statics of a registered model class; a subclass inherits them and counts under
 * the model's name unless it is registered itself.
 */
export function wrapBulkMethods(model: object): void {
  for (const [method, tally] of BULK_METHODS) wrapStatic(model, method, (self, result) => watch(model, self, result, tally));
}

/**
 * With PROMETHEUS_EXPORT_MODEL_BULK on, counts the call once it succeeds. Only the wrapper of the
 * class the call counts under does: a registered subclass's own wrapper calls the parent's.
 */
const watch = safe('sequelize bulk', (model: object, self: unknown, result: unknown, tally: Tally) => {
  const recorder = currentModelRecorder();
  if (recorder?.bulk !== true || registeredClassOf(self) !== model) return;
  const name = modelNameOf(model)!;
  whenFulfilled(result, (value) => count(recorder, name, value, tally));
});

const count = safe('sequelize bulk count', (recorder: ModelRecorder, model: string, value: unknown, tally: Tally) => tally(recorder, model, value));
