import { modelSuite, type Counts } from '../fixtures/models-sequelize-typeorm-runs.js';

const counts = (inserts: number, updates: number, deletes: number): Counts => ({ inserts, updates, deletes });

/**
 * The script's counts (test/fixtures/models-sequelize-app.mjs), bulk setting off:
 * - dog inserts 5: `create`, `build().save()`, the failing duplicate `create` (counted before it
 *   runs), a `create` with nested Toy rows (the top-level row only), a `create` with
 *   `individualHooks` (one row, once); updates 2: a changed `save()` and an instance `update()`
 *   (the no-op `save()` and the same-value `update()` send no query); deletes 1: instance `destroy()`.
 * - toy inserts 1: its own `create`; the nested rows are not counted.
 * - cat (a `Model` class registered before its `init`, paranoid): inserts 2 (`create`, and a
 *   `create` on Kitten, an unregistered subclass, which counts under its registered parent),
 *   updates 2 (`save()`, instance `restore()`), deletes 1 (the paranoid `destroy()`).
 * - owner: registered, never written: 0 0 0; bird: unregistered: no series; `hound`: refused.
 */
const OFF = { dog: counts(5, 2, 1), toy: counts(1, 0, 0), owner: counts(0, 0, 0), cat: counts(2, 2, 1) };

/**
 * Bulk setting on, each bulk method adds its affected rows after success (never its per-row
 * hooks): dog inserts +4 (`bulkCreate` 2, with `individualHooks` 2), updates +7 (static `update`
 * 2, with `individualHooks` 2, `increment` 2, `upsert` of an existing row 1), deletes +3 (static
 * `destroy` 2, with `individualHooks` 1); raw SQL never counts. `upsert` of a new row: Sequelize
 * reports `created` true on MariaDB (an insert) but null on PostgreSQL (counted as an update).
 * cat: `bulkCreate` +2 inserts, paranoid static `destroy` +2 deletes, static `restore` +2 updates.
 */
const ON = {
  postgres: { dog: counts(9, 10, 4), toy: counts(1, 0, 0), owner: counts(0, 0, 0), cat: counts(4, 4, 3) },
  mysql: { dog: counts(10, 9, 4), toy: counts(1, 0, 0), owner: counts(0, 0, 0), cat: counts(4, 4, 3) },
};

/** The duplicate `create` fails with the same error as without the package. */
const duplicate = (parent: string) => ({ 'create a duplicate': { class: 'UniqueConstraintError', message: 'Validation error', parent, fields: { name: 'a' } } });

await modelSuite({
  orm: 'Sequelize',
  app: 'test/fixtures/models-sequelize-app.mjs',
  database: 'odm_models_sequelize',
  counts: { postgres: { off: OFF, on: ON.postgres }, mysql: { off: OFF, on: ON.mysql } },
  outcomes: { postgres: duplicate('23505'), mysql: duplicate('ER_DUP_ENTRY') },
  // The zero series at registration, each instance hook, and the bulk count after success.
  faultSites: ['model zero series', 'sequelize insert count', 'sequelize update count', 'sequelize delete count', 'sequelize restore count', 'sequelize bulk count'],
});
