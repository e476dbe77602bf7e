// The examples' database: PostgreSQL through the real `pg` driver (a pool), so the preload's DB
// metrics show as in production; knex applies the schema's migrations at startup (the migration
// gauges) and Sequelize writes the items (the model counters). `DATABASE_URL` set: that server.
// Unset: an embedded PostgreSQL (PGlite, in memory) served over the wire protocol by
// pglite-socket, so the demo needs no service.
// openDatabase() -> { query(sql, params) -> Promise<rows>, sequelize, close() }
import knex from 'knex';
import pg from 'pg';
import { Sequelize } from 'sequelize';
import { fileURLToPath } from 'node:url';

/** The app's pool, knex's and Sequelize's one connection each: what the embedded server must accept (its default is 1). */
const POOL = 4;
const CONNECTIONS = POOL + 2;
const MIGRATIONS = fileURLToPath(new URL('../express/migrations', import.meta.url));

export async function openDatabase() {
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
  const connection = embedded ? { host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres' } : { connectionString: process.env.DATABASE_URL };
  const pool = new pg.Pool({ ...connection, max: POOL });
  // An idle pooled connection can drop (server restart); the pool replaces it, the app must not crash.
  pool.on('error', (err) => console.error(`database: idle connection lost: ${err.message}`));

  const migrator = knex({ client: 'pg', connection, pool: { min: 0, max: 1 }, migrations: { directory: MIGRATIONS, loadExtensions: ['.mjs'] } });
  await migrator.migrate.latest();

  const sequelize = embedded
    ? new Sequelize(connection.database, connection.user, '', { dialect: 'postgres', host: connection.host, port: connection.port, logging: false, pool: { max: 1 } })
    : new Sequelize(process.env.DATABASE_URL, { logging: false, pool: { max: 1 } });
  return {
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    sequelize,
    async close() {
      await Promise.allSettled([pool.end(), migrator.destroy(), sequelize.close()]);
      await embedded?.stop();
    },
  };
}

async function startEmbeddedPostgres() {
  // Imported only when needed: PGlite is a development dependency of the examples.
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: CONNECTIONS });
  await server.start();
  const [host, port] = server.getServerConn().split(':');
  return {
    host,
    port: Number(port),
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
