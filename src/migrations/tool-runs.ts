import { InstrumentationBase, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { contain, hookFailed, safe } from '../contain.js';
import type { DbTarget } from '../db/aliases.js';
import type { Disable } from '../otel/package-loads.js';
import type { MigrationCounts, MigrationHandle, MigrationTracker } from './tracker.js';

/**
 * Mechanics shared by the migration tools whose sources are found without user code (knex,
 * umzug, TypeORM): their module patches, method wrappers that compose with anyone else's, the
 * per-tool source table, and the small helpers their source keys and labels need.
 */

export type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Starts a tool's module patches (`definitions` are built once, here); the Disable stops them. */
export function enableToolPatches(tool: string, definitions: () => InstrumentationModuleDefinition[]): Disable {
  class ToolPatches extends InstrumentationBase {
    constructor() {
      // It emits no telemetry of its own, so its scope version is irrelevant.
      super(`otel-django-metrics/${tool}-migrations`, '0.0.0', { enabled: false });
    }

    protected override init(): InstrumentationModuleDefinition[] {
      return definitions();
    }
  }
  const patches = new ToolPatches();
  patches.enable();
  return () => patches.disable();
}

/**
 * Wraps `owner[name]` with `wrap(original)` and returns how to undo it. Composes with other
 * wrappers of the same method (another integration may patch it too, before or after): the undo
 * puts the original back only while ours is still the installed method; if someone wrapped ours
 * since, it stays in their chain and goes inert (calls straight through), so theirs is never
 * removed. Ours is not marked as shimmer-wrapped, so a shimmer-based patch applied after it
 * treats it as the original; one applied before it can still unwrap itself through ours (shimmer calls the
 * installed method's `__unwrap`), which takes it out from under ours.
 */
export function wrapMethod(owner: object, name: string, wrap: (original: Method) => Method): Disable {
  const slots = owner as Record<string, unknown>;
  const found = slots[name];
  if (typeof found !== 'function') return () => {};
  const own = Object.getOwnPropertyDescriptor(owner, name);
  let original = found as Method;
  const wrapped = wrap(function (this: unknown): unknown {
    return original.apply(this, arguments as unknown as unknown[]);
  });
  let active = true;
  const installed = function (this: unknown): unknown {
    return (active ? wrapped : original).apply(this, arguments as unknown as unknown[]);
  };
  Object.defineProperty(installed, 'name', { value: original.name });
  const beneath = (original as { __original?: unknown }).__original;
  if (typeof (original as { __unwrap?: unknown }).__unwrap === 'function' && typeof beneath === 'function') {
    Object.defineProperty(installed, '__unwrap', { value: () => (original = beneath as Method), configurable: true });
  }
  Object.defineProperty(owner, name, { value: installed, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
  return () => {
    active = false;
    if (slots[name] !== installed) return;
    if (own === undefined) delete slots[name];
    else Object.defineProperty(owner, name, { ...own, value: original });
  };
}

/**
 * A wrapper factory for a tool's async method: `onSettled(self, fulfilled)` runs (contained at
 * `site`) once the promise the method returned settles. The method itself runs outside the
 * containment and the app gets a promise with exactly its value or error; a method that throws
 * or returns a non-promise is passed through untouched.
 */
export function afterSettled(site: string, onSettled: (self: unknown, fulfilled: boolean) => void): (original: Method) => Method {
  const notify = safe(site, onSettled);
  return (original) =>
    function (this: unknown): unknown {
      const result = original.apply(this, arguments as unknown as unknown[]);
      if (!isPromise(result)) return result;
      return result.then(
        (value) => {
          notify(this, true);
          return value;
        },
        (err: unknown) => {
          notify(this, false);
          throw err;
        },
      );
    };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

/** Runs `step` soon, off the app's stack; a throw or a rejection is contained at `site`. */
export function soon(site: string, step: () => Promise<void> | void): void {
  setImmediate(() => {
    try {
      Promise.resolve(step()).catch((err: unknown) => hookFailed(site, err));
    } catch (err) {
      hookFailed(site, err);
    }
  });
}

/** How one of the app's objects (a knex client, an Umzug, a DataSource) reads a source. */
interface Reader<T extends object> {
  /** Weak: tracking a source never keeps alive an object the app dropped. */
  readonly target: WeakRef<T>;
  read(target: T): Promise<MigrationCounts>;
}

interface ToolSource<T extends object> {
  readonly readers: Array<Reader<T>>;
  handle: MigrationHandle;
}

/**
 * One tool's sources, by key (tool, database, table, folder). The first object found for a key
 * makes it a tracked source; later ones for the same key only add a way to read it, so two
 * instances of one source count once, and the source outlives the instance that found it. A read
 * goes through the newest object still open; once the app has closed or dropped all of them, the
 * source leaves the gauges (nothing left to read it with, and no stale value is kept) until
 * another object for it appears.
 */
export class ToolSources<T extends object> {
  private readonly sources = new Map<string, ToolSource<T>>();

  constructor(
    private readonly tool: string,
    private readonly tracker: MigrationTracker,
    /** Whether the app's object can still be read through (not destroyed or closed). */
    private readonly isOpen: (target: T) => boolean,
  ) {}

  /** `target` reads the source `key` of `connection` with `read`; true if the key is new (it is read soon). */
  add(key: string, connection: string, target: T, read: (target: T) => Promise<MigrationCounts>): boolean {
    const reader: Reader<T> = { target: new WeakRef(target), read };
    const known = this.sources.get(key);
    if (known !== undefined) {
      if (!known.readers.some((r) => r.target.deref() === target)) known.readers.push(reader);
      return false;
    }
    const readers = [reader];
    const handle = this.tracker.add({ key: `${this.tool} ${key}`, tool: this.tool, connection, read: () => this.read(key) });
    this.sources.set(key, { readers, handle });
    return true;
  }

  has(key: string): boolean {
    return this.sources.has(key);
  }

  /** Re-reads `key` (after a migration run through the tool); nothing if it is not tracked. */
  refresh(key: string): void {
    void this.sources.get(key)?.handle.refresh();
  }

  /** Stops tracking every source of the tool. */
  stop(): void {
    for (const source of this.sources.values()) contain(`${this.tool} migrations stop`, () => source.handle.stop());
    this.sources.clear();
  }

  private read(key: string): Promise<MigrationCounts> {
    const source = this.sources.get(key);
    const readers = source?.readers ?? [];
    for (let i = readers.length - 1; i >= 0; i--) {
      const reader = readers[i]!;
      const target = reader.target.deref();
      if (target !== undefined && this.isOpen(target)) return reader.read(target);
      readers.splice(i, 1);
    }
    // Stopped, the source is no longer in the gauges: the value returned here is never exposed.
    if (source !== undefined) {
      this.sources.delete(key);
      source.handle.stop();
    }
    return Promise.resolve({ applied: 0, unapplied: 0 });
  }
}

const identities = new WeakMap<object, number>();
let lastIdentity = 0;

/** A key part for an object known only by identity (a custom storage or migration list). */
export function identityOf(object: object): string {
  let id = identities.get(object);
  if (id === undefined) identities.set(object, (id = ++lastIdentity));
  return `#${id}`;
}

/** Connection settings as the tools hold them: fields, or a connection URL. */
export interface ConnectionSettings {
  host?: unknown;
  port?: unknown;
  database?: unknown;
  url?: unknown;
}

/** The port each driver family connects to when none is given, so that PROMETHEUS_DB_ALIASES rules written for the DB families (which see the driver's resolved port) match here too. */
const DEFAULT_PORTS: ReadonlyArray<[RegExp, number]> = [
  [/postgres|^pg$|cockroach/i, 5432],
  [/mysql|mariadb/i, 3306],
];

/** Where a tool's connection points, for the `connection` label and the source key. */
export function dbTarget(settings: ConnectionSettings, family: string): DbTarget {
  const fromUrl = typeof settings.url === 'string' ? urlTarget(settings.url) : {};
  const host = text(settings.host) ?? fromUrl.host;
  const database = text(settings.database) ?? fromUrl.database;
  const given = settings.port ?? fromUrl.port;
  const port = typeof given === 'number' || typeof given === 'string' ? Number(given) : DEFAULT_PORTS.find(([pattern]) => pattern.test(family))?.[1];
  return { host, port, database };
}

function urlTarget(url: string): DbTarget {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname || undefined, port: parsed.port || undefined, database: decodeURIComponent(parsed.pathname.slice(1)) || undefined };
  } catch {
    return {};
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
