import { modelSuite, type Counts } from '../fixtures/models-sequelize-typeorm-runs.js';

const counts = (inserts: number, updates: number, deletes: number): Counts => ({ inserts, updates, deletes });

/**
 * The script's counts (test/fixtures/models-typeorm-app.mjs), bulk setting off:
 * - dog inserts 9: `save` of a new entity, of an array of 2 (each), of a plain object, through the
 *   EntityManager, in a transaction, of a new entity with cascaded Toy rows (the top-level row
 *   only), of a Puppy (an unregistered entity subclass, counted under its registered parent), and
 *   the failing duplicate `save` (counted before it runs); updates 3: a changed `save`,
 *   `softRemove`, `recover` (an unchanged `save` sends no query); deletes 1: `remove`.
 * - toy inserts 1: its own `save`; the cascaded rows are not counted.
 * - owner: registered, never written: 0 0 0; bird: unregistered: no series; `hound`: refused.
 */
const OFF = { dog: counts(9, 3, 1), toy: counts(1, 0, 0), owner: counts(0, 0, 0) };

/**
 * Bulk setting on, each bulk write adds its rows after success: inserts +2 (`insert` of 2; the
 * failing `insert` adds nothing), updates +8 (`update` by criteria 2, `softDelete` 1, `restore`
 * 1, `upsert` of 2 rows as updates, a query-builder `update` 1, `increment` 1), deletes +2
 * (`delete` by criteria 1, a query-builder `delete` 1); raw SQL never counts.
 */
const ON = { dog: counts(11, 11, 3), toy: counts(1, 0, 0), owner: counts(0, 0, 0) };

/** The failing writes fail with the same errors as without the package (`key` is MariaDB's duplicate value). */
const failures = (message: (key: string) => string, code: string) => ({
  'save a duplicate': { class: 'QueryFailedError', message: message('a'), code },
  'insert a duplicate': { class: 'QueryFailedError', message: message('i1'), code },
});

await modelSuite({
  orm: 'TypeORM',
  app: 'test/fixtures/models-typeorm-app.mjs',
  database: 'odm_models_typeorm',
  counts: { postgres: { off: OFF, on: ON }, mysql: { off: OFF, on: ON } },
  outcomes: {
    postgres: failures(() => 'duplicate key value violates unique constraint "<constraint>"', '23505'),
    mysql: failures((key) => `Duplicate entry '${key}' for key '<constraint>'`, 'ER_DUP_ENTRY'),
  },
  // The zero series at registration, each subscriber method, and the bulk count after success.
  faultSites: ['model zero series', 'typeorm insert count', 'typeorm update count', 'typeorm delete count', 'typeorm soft remove count', 'typeorm recover count', 'typeorm bulk count'],
});
