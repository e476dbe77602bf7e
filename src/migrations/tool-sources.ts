import { contain, hookFailed } from '../contain.js';
import type { MigrationCounts, MigrationHandle, MigrationTracker } from './tracker.js';

/**
 * The sources of the migration tools found without user code (knex, umzug, TypeORM, Prisma,
 * Kysely): one table per tool of the app's objects that read each source, and when they are
 * looked at (soon, off the app's stack).
 */

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
