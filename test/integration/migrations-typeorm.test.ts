import { createServer, connect, type Server, type Socket } from 'node:net';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import typeorm from 'typeorm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reachable } from '../fixtures/db-services.mjs';
import { afterSettled, wrapMethod, type Method } from '../../src/migrations/method-wrappers.js';
import { valueOf, type Exposition } from '../support/exposition.js';
import {
  dbSamples,
  expectFaultSites,
  expectNoTableCreated,
  expectNothingExported,
  expectSameOutcomes,
  MODES,
  packageLines,
  recreateDatabases,
  runEveryMode,
  scriptModes,
  SERVERS,
  serverEnv,
  stepGaugeTests,
  stopApps,
  testKnex,
  type Mode,
  type ScriptStep,
  type ServerName,
} from '../support/migration-runs.js';

const APP = 'test/fixtures/migrations-typeorm-app.mjs';
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

/** A TCP proxy to the server, closed by the test to take the database down under a running app. */
interface Proxy {
  port: number;
  close(): Promise<void>;
}

async function tcpProxy(port: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };
  const server: Server = createServer((client) => {
    const upstream = track(connect(port, '127.0.0.1'));
    track(client);
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Closes the proxy, and gives the app's pool time to see its connections end (so its next run connects anew). */
async function takeDown(proxy: Proxy): Promise<void> {
  await proxy.close();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** The first 2 of main's 3 migrations, applied by the test's own TypeORM (never preloaded). */
async function applyFirstTwo(server: ServerName, database: string): Promise<void> {
  const { host, port, user, password } = SERVERS[server];
  const dataSource = new typeorm.DataSource({
    type: server === 'pg' ? 'postgres' : 'mariadb',
    host,
    port,
    username: user,
    password,
    database,
    migrations: ['test/fixtures/migrations-typeorm/migrations/*-create-[ab].cjs'],
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
}

/** A row whose migration is not in the code: TypeORM's own undo then rejects. */
async function addGhostRow(server: ServerName, database: string): Promise<void> {
  const db = testKnex(server, database);
  try {
    await db('migrations').insert({ timestamp: 1700000000099, name: 'Ghost1700000000099' });
  } finally {
    await db.destroy();
  }
}

/**
 * The script every mode runs; the gauges are those expected with migrations on. The database
 * starts with 2 of main's 3 migrations applied (by the test, before the app starts).
 */
function script(server: ServerName, proxies: Map<string, Proxy>): ScriptStep[] {
  return [
    { step: 'create', args: { name: 'main' }, gauges: { mig: [2, 1] } },
    // Same database, table and migrations: one source, not 4/2.
    { step: 'create', args: { name: 'again' }, gauges: { mig: [2, 1] } },
    { step: 'run', args: { name: 'main' }, gauges: { mig: [3, 0] } },
    { step: 'undo', args: { name: 'main' }, gauges: { mig: [2, 1] } },
    // A second migrations table on the same database (not created yet): summed.
    { step: 'create', args: { name: 'other' }, gauges: { mig: [2, 3] } },
    { step: 'run', args: { name: 'other' }, gauges: { mig: [4, 1] } },
    // A run that rejects refreshes too. Applied = executed rows, the ghost's included.
    { step: 'undo', args: { name: 'main' }, before: (database) => addGhostRow(server, database), gauges: { mig: [5, 1] } },
    { step: 'create', args: { name: 'aliased' }, gauges: { mig: [5, 1], primary: [0, 2] } },
    // Main's source through the proxy: its own target, its own alias.
    { step: 'create', args: { name: 'down' }, gauges: { mig: [5, 1], primary: [0, 2], down: [3, 1] } },
    // The database goes down: the failed read drops the source's values (nothing stale).
    { step: 'run', args: { name: 'down' }, before: (database) => takeDown(proxies.get(database)!), gauges: { mig: [5, 1], primary: [0, 2] } },
    // The source outlives the DataSource that found it: read through `again` once main is destroyed.
    { step: 'destroy', args: { name: 'main' } },
    { step: 'run', args: { name: 'again' }, gauges: { mig: [6, 0], primary: [0, 2] } },
    { step: 'seen' },
    { step: 'rows' },
  ];
}

const DOWN_WARNING = /^migrations: cannot read the typeorm migrations of connection "down"; left out until a read succeeds: connect ECONNREFUSED 127\.0\.0\.1:\d+$/;

for (const server of ['pg', 'mysql'] as const) {
  const { host, port, client } = SERVERS[server];
  const available = await reachable(port, host);
  const database = (mode: Mode) => `odm_mig_typeorm_${server}_${mode}`;

  describe.skipIf(!available && !required)(`TypeORM migrations on ${client} (${APP})`, () => {
    const proxies = new Map<string, Proxy>();
    const steps = script(server, proxies);
    const modes = scriptModes();
    let final: Exposition;
    /** A mode's outcomes with its own database name and proxy port (in TypeORM's MariaDB statements and errors) made neutral. */
    const sameDatabase = (mode: Mode): unknown =>
      JSON.parse(JSON.stringify(modes.runs[mode].outcomes).replaceAll(database(mode), 'DATABASE').replaceAll(`:${proxies.get(database(mode))!.port}`, ':PROXY'));

    beforeAll(async () => {
      await recreateDatabases(server, MODES.map(database));
      for (const mode of MODES) {
        await applyFirstTwo(server, database(mode));
        proxies.set(database(mode), await tcpProxy(port));
      }
      await runEveryMode(modes, {
        app: APP,
        steps,
        database,
        env: (mode) => {
          const proxy = proxies.get(database(mode))!;
          return {
            ...serverEnv(server),
            MIG_DB: database(mode),
            MIG_DOWN_PORT: String(proxy.port),
            PROMETHEUS_DB_ALIASES: `mig=${host}:${port}/${database(mode)},down=127.0.0.1:${proxy.port}`,
          };
        },
        downWarning: DOWN_WARNING,
        lastFaultSite: 'typeorm migrations discovery',
      });
      final = await modes.apps.off!.scrape();
    }, 120_000);

    afterAll(async () => {
      await stopApps(modes);
      await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
    });

    test(`the server answers on ${host}:${port}`, () => {
      expect(available).toBe(true);
    });

    stepGaugeTests(steps, modes);

    test('the database that went down gives exactly one warning line naming tool and connection; nothing else is logged', () => {
      expect(packageLines(modes.apps.on!.stderr())).toEqual([expect.stringMatching(DOWN_WARNING)]);
    });

    test("the app gets exactly its results and errors, its logger and subscribers see exactly its own statements, and the tables hold the same rows, in every mode", () => {
      const outcomes = modes.runs.plain.outcomes as Array<{ result?: unknown; message?: string; code?: string }>;
      // The plan: the runs resolved or rejected as written.
      expect(outcomes[2]).toEqual({ result: ['CreateC1700000000003'] });
      expect(outcomes[5]).toEqual({ result: ['PlainX1700000000101', 'PlainY1700000000102'] });
      expect(outcomes[6]?.message).toMatch(/^No migration Ghost1700000000099 was found in the source code/);
      expect(outcomes[9]).toMatchObject({ code: 'ECONNREFUSED' });
      expect((outcomes[13] as { result: unknown }).result).toMatchObject({
        migrations: [{ name: 'CreateA1700000000001' }, { name: 'CreateB1700000000002' }, { name: 'Ghost1700000000099' }, { name: 'CreateC1700000000003' }],
        other: [{ name: 'PlainX1700000000101' }, { name: 'PlainY1700000000102' }],
      });
      expectSameOutcomes(modes, sameDatabase);
    });

    test('reading creates no table: the aliased source, never run, has none', () => {
      expectNoTableCreated(modes, 13, 'aliased_migrations');
    });

    test('with the setting off nothing is read, even with a refresh timer: the DB families count exactly the statements of one read fewer than with it on, and the families have HELP/TYPE only', () => {
      expectNothingExported(modes, final);
      // Both DataSources initialized the same way in both runs; with the setting on, one read
      // on a pooled connection: hasTable and the select.
      const labels = { alias: 'mig', vendor: server === 'pg' ? 'postgresql' : 'mysql' };
      const count = (exp: Exposition, name: string) => valueOf(exp, name, labels) ?? 0;
      expect(count(modes.idle.on, 'django_db_execute_total') - count(modes.idle.off, 'django_db_execute_total')).toBe(2);
      expect(count(modes.idle.on, 'django_db_new_connections_total')).toBe(count(modes.idle.off, 'django_db_new_connections_total'));
      expect(dbSamples(modes.idle.off, 'mig').length).toBeGreaterThan(0);
    });

    test('fault injection: each contained site logs ODM001 once, and the process lives on', () => {
      expectFaultSites(modes, ['typeorm migrations discovery']);
    });
  });
}

/**
 * DataSource#initialize is wrapped twice: by this source (to find it) and by the model-operations
 * subscriber, which wraps with OTel's shimmer (`_wrap`/`_unwrap`). Either may come first.
 */
describe('our initialize wrapper composes with a shimmer wrapper of the same method, in either order', () => {
  class Shimmer extends InstrumentationBase {
    constructor() {
      super('other', '0.0.0', { enabled: false });
    }
    protected override init() {
      return [];
    }
    wrap(target: object, name: string, wrapper: (original: Method) => Method) {
      this._wrap(target, name as never, wrapper as never);
    }
    unwrap(target: object, name: string) {
      this._unwrap(target, name as never);
    }
  }

  function setUp() {
    const calls: string[] = [];
    class Source {
      async initialize() {
        calls.push('original');
        return this;
      }
    }
    const theirs = (original: Method): Method =>
      function (this: unknown) {
        calls.push('theirs');
        return original.apply(this, arguments as unknown as unknown[]);
      };
    const ours = afterSettled('test initialize', () => calls.push('ours, after it resolved'));
    const run = async () => {
      calls.length = 0;
      await new Source().initialize();
      return [...calls];
    };
    return { prototype: Source.prototype, theirs, ours, run, other: new Shimmer() };
  }

  test('theirs first (the load order): both run; their unwrap through ours takes theirs out; our disable then restores the original', async () => {
    const { prototype, theirs, ours, run, other } = setUp();
    const original = Object.getOwnPropertyDescriptor(prototype, 'initialize')!.value as unknown;
    other.wrap(prototype, 'initialize', theirs);
    const disable = wrapMethod(prototype, 'initialize', ours);
    expect(await run()).toEqual(['theirs', 'original', 'ours, after it resolved']);
    other.unwrap(prototype, 'initialize');
    expect(await run()).toEqual(['original', 'ours, after it resolved']);
    disable();
    expect(Object.getOwnPropertyDescriptor(prototype, 'initialize')!.value).toBe(original);
  });

  test('theirs first (the load order): both run; our disable puts theirs back; their unwrap then restores the original', async () => {
    const { prototype, theirs, ours, run, other } = setUp();
    other.wrap(prototype, 'initialize', theirs);
    const disable = wrapMethod(prototype, 'initialize', ours);
    expect(await run()).toEqual(['theirs', 'original', 'ours, after it resolved']);
    disable();
    expect(await run()).toEqual(['theirs', 'original']);
    other.unwrap(prototype, 'initialize');
    expect(await run()).toEqual(['original']);
  });

  test('ours first: both run; our disable leaves theirs installed and ours inert; their unwrap then leaves only the original running', async () => {
    const { prototype, theirs, ours, run, other } = setUp();
    const disable = wrapMethod(prototype, 'initialize', ours);
    other.wrap(prototype, 'initialize', theirs);
    expect(await run()).toEqual(['theirs', 'original', 'ours, after it resolved']);
    disable();
    expect(await run()).toEqual(['theirs', 'original']);
    other.unwrap(prototype, 'initialize');
    expect(await run()).toEqual(['original']);
  });
});
