// The express example (examples/express/app.mjs) under the preload, against the real PostgreSQL
// and Redis: each start gets a database of its own, created here and dropped at stop, so the
// example's migrations and seed run on an empty schema every time.
import pg from 'pg';
import { PG } from '../fixtures/db-services.mjs';
import { spawnApp, type RunningApp, type SpawnOptions } from './processes.js';

export const EXAMPLE_APP = 'examples/express/app.mjs';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A PostgreSQL database created for one test run: its URL, and how to drop it. */
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(PG);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

let created = 0;

export async function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${created++}`.toLowerCase();
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: `postgresql://${PG.user}@${PG.host}:${PG.port}/${name}`,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export interface RunningExample extends RunningApp {
  database: ScratchDatabase;
}

/**
 * Starts the example with its own database, Redis as its cache, and the migration gauges on (as
 * `npm run demo` runs it). `env` adds or overrides settings.
 */
export async function startExample(options: SpawnOptions = {}): Promise<RunningExample> {
  const database = await scratchDatabase('odm_example');
  try {
    const app = await spawnApp(EXAMPLE_APP, {
      timeoutMs: 60_000,
      ...options,
      env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, REDIS_URL, PROMETHEUS_EXPORT_MIGRATIONS: 'true', ...options.env },
    });
    return {
      ...app,
      database,
      async stop() {
        await app.stop();
        await database.drop();
      },
    };
  } catch (err) {
    await database.drop();
    throw err;
  }
}
