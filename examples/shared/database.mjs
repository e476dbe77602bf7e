// The examples' database: PostgreSQL through the real `pg` driver (a pool), so the preload's DB
// metrics show as in production. `DATABASE_URL` set: that server. Unset: an embedded PostgreSQL
// (PGlite, in memory) served over the wire protocol by pglite-socket, so the demo needs no service.
// openDatabase() -> { query(sql, params) -> Promise<rows>, close() }
import pg from 'pg';

/** Concurrent connections: the pool's size and what the embedded server accepts (its default is 1). */
const CONNECTIONS = 4;

export async function openDatabase() {
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
  const pool = new pg.Pool({
    ...(embedded ? { host: embedded.host, port: embedded.port, user: 'postgres', database: 'postgres' } : { connectionString: process.env.DATABASE_URL }),
    max: CONNECTIONS,
  });
  // An idle pooled connection can drop (server restart); the pool replaces it, the app must not crash.
  pool.on('error', (err) => console.error(`database: idle connection lost: ${err.message}`));
  return {
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async close() {
      await pool.end();
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
