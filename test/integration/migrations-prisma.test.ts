import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { containedFailures, spawnBare, spawnFaulty } from '../support/faults.js';
import { ROOT, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';
import { callingRuntime, migrationsFolderOf } from '../../src/migrations/prisma-schema-location.js';
import { freshDatabase, generatePrismaClient } from '../support/prisma.js';

const APP = 'test/fixtures/migrations-prisma-app.mjs';
const DB = 'odm_migrations_prisma';
const MIGRATIONS = `${ROOT}test/fixtures/prisma/migrations`;
const [INIT, DOG_AGE, CAT] = ['20250101000000_init', '20250102000000_dog_age', '20250103000000_cat'];
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';
const available = await reachable(PG.port, PG.host);

const APPLIED = 'django_migrations_applied_total';
const UNAPPLIED = 'django_migrations_unapplied_total';

/** `_prisma_migrations` exactly as Prisma's schema engine creates it on PostgreSQL. */
const PRISMA_MIGRATIONS_DDL = `
CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

/**
 * What `prisma migrate deploy` writes for one migration: the row (id, SHA-256 of the script,
 * start), one step, then `finished_at`; a failed one gets its logs instead, and
 * `prisma migrate resolve --rolled-back` later sets `rolled_back_at`.
 */
async function recordMigration(db: pg.Client, name: string, outcome: 'applied' | 'rolled back'): Promise<void> {
  const script = await readFile(`${MIGRATIONS}/${name}/migration.sql`);
  const id = randomUUID();
  const checksum = createHash('sha256').update(script).digest('hex');
  await db.query('INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name) VALUES ($1, $2, now(), $3)', [id, checksum, name]);
  if (outcome === 'applied') {
    await db.query('UPDATE _prisma_migrations SET applied_steps_count = applied_steps_count + 1 WHERE id = $1', [id]);
    await db.query('UPDATE _prisma_migrations SET finished_at = now() WHERE id = $1', [id]);
  } else {
    await db.query('UPDATE _prisma_migrations SET logs = $2 WHERE id = $1', [id, 'Database error code: 42P07']);
    await db.query('UPDATE _prisma_migrations SET rolled_back_at = now() WHERE id = $1', [id]);
  }
}

/** Settings of the instrumented runs: the source re-read every second; the reachable database aliased. */
const SETTINGS = {
  PRISMA_DB: DB,
  PROMETHEUS_EXPORT_MIGRATIONS: 'true',
  PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '1',
  PROMETHEUS_DB_ALIASES: `primary=${PG.host}:${PG.port}/${DB},unreachable=/unreachable`,
};

/** The ES module app's `@prisma/adapter-pg` import loads that package's ES module build: only the ESM hook sees it. */
const ESM_HOOK = { PROMETHEUS_ESM_HOOK: 'true' };

const started: RunningApp[] = [];

async function start(spawn: (script: string, options: SpawnOptions) => Promise<RunningApp>, env: Record<string, string>): Promise<RunningApp> {
  const app = await spawn(APP, { readyText: 'ready', timeoutMs: 30_000, env });
  started.push(app);
  return app;
}

function outcomesOf(app: RunningApp): unknown {
  return JSON.parse(app.stdout().split('\n')[0]!);
}

function gauges(exp: Exposition): { applied: string[]; unapplied: string[] } {
  return { applied: vectorOf(exp, APPLIED), unapplied: vectorOf(exp, UNAPPLIED) };
}

/** Scrapes until the gauges are `expected` (they are read off the app's paths); the last scrape if they never are. */
async function gaugesReach(app: RunningApp, expected: ReturnType<typeof gauges>, timeoutMs = 10_000): Promise<ReturnType<typeof gauges>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = gauges(await app.scrape());
    if (JSON.stringify(seen) === JSON.stringify(expected) || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available && !required)(`Prisma migrations, discovered at a client's first $connect or query (${APP})`, () => {
  let db: pg.Client;

  beforeAll(async () => {
    const generation = await generatePrismaClient();
    console.info(`prisma generate: ${generation.generated ? `${generation.ms} ms` : 'up to date'}`);
    await freshDatabase(DB);
    db = new pg.Client({ ...PG, database: DB });
    await db.connect();
    await db.query(PRISMA_MIGRATIONS_DDL);
    await recordMigration(db, INIT, 'applied');
    await recordMigration(db, DOG_AGE, 'applied');
    // The third failed and was marked rolled back: it is not applied.
    await recordMigration(db, CAT, 'rolled back');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await db?.end();
  });

  test(`the server answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  test('3 folders, 2 applied rows and a rolled-back one: applied 2, unapplied 1; the third applied as deploy does: 3 / 0 on the refresh timer, no restart; an unreachable database: one warning, no series; $disconnect: the series go', async () => {
    const app = await start(spawnApp, { ...SETTINGS, ...ESM_HOOK, UNREACHABLE_CLIENT: '1' });
    expect(await gaugesReach(app, { applied: ['{"connection":"primary"} 2'], unapplied: ['{"connection":"primary"} 1'] })).toEqual({
      applied: ['{"connection":"primary"} 2'],
      unapplied: ['{"connection":"primary"} 1'],
    });

    await recordMigration(db, CAT, 'applied');
    expect(await gaugesReach(app, { applied: ['{"connection":"primary"} 3'], unapplied: ['{"connection":"primary"} 0'] })).toEqual({
      applied: ['{"connection":"primary"} 3'],
      unapplied: ['{"connection":"primary"} 0'],
    });

    // The unreachable client's source has failed on every refresh since it connected: logged once.
    expect(app.stderr().split('\n').filter(Boolean)).toEqual([
      'otel-django-metrics: migrations: cannot read the prisma migrations of connection "unreachable"; left out until a read succeeds: DatabaseNotReachable',
    ]);

    app.child.kill('SIGUSR2');
    await vi.waitFor(() => expect(app.stdout()).toContain('disconnected'), { timeout: 10_000 });
    expect(await gaugesReach(app, { applied: [], unapplied: [] })).toEqual({ applied: [], unapplied: [] });
  }, 60_000);

  test('the app sees exactly what it sees without the package', async () => {
    const [plain, instrumented] = await Promise.all([start(spawnBare, { PRISMA_DB: DB, UNREACHABLE_CLIENT: '1' }), start(spawnApp, { ...SETTINGS, ...ESM_HOOK, UNREACHABLE_CLIENT: '1' })]);
    expect(outcomesOf(plain)).toEqual({
      connect: { result: null },
      query: { result: [{ one: 1 }] },
      'query an unreachable database': { class: 'Error', code: 'P2010', message: 'P2010' },
      'callback calls': 0,
    });
    expect(outcomesOf(instrumented)).toEqual(outcomesOf(plain));
  }, 60_000);

  test('PROMETHEUS_EXPORT_MIGRATIONS off: the families have no series, the adapter is not touched', async () => {
    const app = await start(spawnApp, { ...SETTINGS, ...ESM_HOOK, PROMETHEUS_EXPORT_MIGRATIONS: 'false' });
    await sleep(1500);
    const exp = await app.scrape();
    expect(exp.families.get(APPLIED)).toEqual({ help: 'Count of applied migrations by database connection', type: 'gauge' });
    expect(gauges(exp)).toEqual({ applied: [], unapplied: [] });
    expect(app.stderr()).toBe('');
  }, 60_000);

  test('the tracker throwing (ODM_FAULTS=recorders): the same results, the process lives on, each failing site reported once', async () => {
    const [plain, faulty] = await Promise.all([start(spawnBare, { PRISMA_DB: DB }), start((script, options) => spawnFaulty(script, ['recorders'], options), { ...SETTINGS, ...ESM_HOOK })]);
    await sleep(1500);
    const exp = await faulty.scrape();
    expect(outcomesOf(faulty)).toEqual(outcomesOf(plain));
    expect(faulty.child.exitCode).toBe(null);
    expect(gauges(exp)).toEqual({ applied: [], unapplied: [] });
    const sites = containedFailures(faulty.stderr()).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1]);
    // Tracking the discovered source fails (and so does the tracker's own collection and timer);
    // the app's queries still go through the pg hooks, whose recorder throws too.
    expect(sites.sort()).toEqual(['collector migrations', 'db statement count', 'db statement end', 'migrations refresh timer', 'pg connect count', 'prisma migrations source']);
    for (const line of containedFailures(faulty.stderr())) expect(line).toContain('injected fault: ');
  }, 60_000);

  test('@prisma/adapter-pg loaded with require (its CommonJS build, as a CommonJS app does), without the ESM hook: discovered through the module-load activation', async () => {
    const app = await start(spawnApp, { ...SETTINGS, PRISMA_ADAPTER_LOAD: 'require' });
    expect(await gaugesReach(app, { applied: ['{"connection":"primary"} 3'], unapplied: ['{"connection":"primary"} 0'] })).toEqual({
      applied: ['{"connection":"primary"} 3'],
      unapplied: ['{"connection":"primary"} 0'],
    });
  }, 60_000);
});

describe("a client's migrations folder: next to the schema its generated copy matches, where its output leads back to", () => {
  const roots: string[] = [];
  afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

  /** A temporary project holding `files` (path: text): a schema, its generated copy and runtime; returns its root. */
  async function project(files: Record<string, string>): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'odm-prisma-'));
    roots.push(root);
    for (const [path, text] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), text);
    }
    return root;
  }
  const schema = (output: string) => `generator client {\n  provider = "prisma-client-js"\n  output   = "${output}"\n}\n`;

  test('output below the schema (./generated): the folder it leads back to', async () => {
    const root = await project({ 'db/schema.prisma': schema('./generated'), 'db/generated/schema.prisma': schema('./generated'), 'db/generated/runtime/client.js': '' });
    expect(await migrationsFolderOf(join(root, 'db/generated/runtime/client.js'))).toBe(join(root, 'db/migrations'));
  });

  test('output that climbs first (../src/generated): the sibling folder holding the identical schema', async () => {
    const text = schema('../src/generated');
    const root = await project({
      'other/schema.prisma': schema('../elsewhere'),
      'prisma/schema.prisma': text,
      'src/generated/schema.prisma': text,
      'src/generated/runtime/client.js': '',
    });
    expect(await migrationsFolderOf(join(root, 'src/generated/runtime/client.js'))).toBe(join(root, 'prisma/migrations'));
  });

  test('a schema changed since the client was generated: not found', async () => {
    const root = await project({ 'db/schema.prisma': `${schema('./generated')}// edited\n`, 'db/generated/schema.prisma': schema('./generated'), 'db/generated/runtime/client.js': '' });
    expect(await migrationsFolderOf(join(root, 'db/generated/runtime/client.js'))).toBeUndefined();
  });

  test('a connect not called by a Prisma runtime (here: a test) names none', () => {
    expect(callingRuntime()).toBeUndefined();
  });
});
