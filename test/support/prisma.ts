// Generates the Prisma client of test/fixtures/prisma/schema.prisma for the Prisma tests, once.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { PG } from '../fixtures/db-services.mjs';
import { ROOT } from './processes.js';

const FIXTURES = `${ROOT}test/fixtures/prisma/`;
export const PRISMA_SCHEMA = `${FIXTURES}schema.prisma`;
/** The generated client (gitignored), as the fixture apps import it. */
export const PRISMA_CLIENT = `${FIXTURES}generated/index.js`;
/** Written last by a successful generation: the hash of what it was generated from. */
const STAMP = `${FIXTURES}generated/.source-hash`;
/** Held (a directory: its creation is atomic) by the one test file generating. */
const LOCK = `${FIXTURES}.generate.lock`;
/** A lock older than this was left by a run that died: taken over. */
const STALE_LOCK_MS = 120_000;

export interface Generation {
  /** Whether this call ran `prisma generate` (false: the client was already up to date). */
  generated: boolean;
  /** How long `prisma generate` took, in ms (0 when it did not run). */
  ms: number;
}

/**
 * Makes sure the generated client matches the schema and the installed Prisma, generating it if
 * not. Safe when several test files call it at once: one generates under a lock while the others
 * wait, then see the stamp and return.
 *
 * `prisma generate` wants to download the schema engine unless PRISMA_SCHEMA_ENGINE_BINARY names an
 * existing file; generation itself never runs that engine, so the schema file stands in for it,
 * and no binary is fetched (`npm ci` does not run Prisma's install scripts here).
 */
export async function generatePrismaClient(): Promise<Generation> {
  const hash = await sourceHash();
  if ((await stamp()) === hash) return { generated: false, ms: 0 };
  await acquire();
  try {
    if ((await stamp()) === hash) return { generated: false, ms: 0 };
    const started = performance.now();
    await promisify(execFile)(process.execPath, [`${ROOT}node_modules/prisma/build/index.js`, 'generate', '--schema', PRISMA_SCHEMA], {
      cwd: ROOT,
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: PRISMA_SCHEMA, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
    const ms = Math.round(performance.now() - started);
    await writeFile(STAMP, hash);
    return { generated: true, ms };
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

/** The schema's text and the Prisma versions that generate and run the client. */
async function sourceHash(): Promise<string> {
  const parts = await Promise.all([PRISMA_SCHEMA, `${ROOT}node_modules/prisma/package.json`, `${ROOT}node_modules/@prisma/client/package.json`].map((file) => readFile(file)));
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

async function stamp(): Promise<string | undefined> {
  return readFile(STAMP, 'utf8').catch(() => undefined);
}

async function acquire(): Promise<void> {
  for (;;) {
    try {
      await mkdir(LOCK);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(LOCK, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/**
 * Drops and recreates database `name` on the PostgreSQL test server: each test file of the
 * model and migration adapters (Prisma and MikroORM) works in its own database.
 */
export async function freshDatabase(name: string): Promise<void> {
  const admin = new pg.Client(PG);
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}
