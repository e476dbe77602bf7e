import { MIGRATIONS } from '../../views/migrations.js';
import { contain } from '../contain.js';
import type { Logger } from '../log.js';
import type { Registry } from '../store/registry.js';
import type { Collector, GaugeSnapshot, ValuePoint } from '../store/snapshot.js';

/** What one migration source reports: how many of its migrations ran, and how many have not. */
export interface MigrationCounts {
  readonly applied: number;
  readonly unapplied: number;
}

/** One place migrations are recorded (a knex instance's table, an umzug storage, a folder...). */
export interface MigrationSource {
  /**
   * Identity: two sources with the same key (same tool, database, table and folder) are one
   * source, read once; different keys on one connection are summed.
   */
  readonly key: string;
  /** The tool, for the warning line of a failed read. */
  readonly tool: string;
  /** The `connection` label: the source's DB alias. */
  readonly connection: string;
  /** Reads the counts; off the app's paths, under the tracker's time limit. */
  read(): Promise<MigrationCounts>;
}

/** A tracked source: the app's tool adapters call `refresh()` after a migration run. */
export interface MigrationHandle {
  /** Re-reads the source; resolves once the gauges hold the result (or the failure dropped them). */
  refresh(): Promise<void>;
  /** Stops tracking the source: its counts leave the gauges. */
  stop(): void;
}

/** A read that takes longer than this is abandoned as failed: a source never holds the gauges up. */
export const READ_LIMIT_MS = 10_000;

interface Entry {
  readonly source: MigrationSource;
  counts: MigrationCounts | undefined;
  /** The read in flight, if any. */
  reading: Promise<void> | undefined;
  /** A refresh asked for while a read was in flight: read again when it ends. */
  again: boolean;
  /** Handles not stopped yet: an identical source added twice stays until both are stopped. */
  holders: number;
  stopped: boolean;
}

export interface MigrationTrackerOptions {
  /** PROMETHEUS_EXPORT_MIGRATIONS: without it no source is read and the gauges have no series. */
  readonly enabled: boolean;
  /** PROMETHEUS_MIGRATIONS_REFRESH_SECONDS; 0 = never on a timer. */
  readonly refreshSeconds: number;
  readonly log: Logger;
}

const INERT: MigrationHandle = { refresh: async () => {}, stop: () => {} };

/**
 * The two migration gauges: sources are read off the app's paths (at discovery, after a run
 * through an instrumented tool, and on the refresh timer), and a collection sums the last
 * successful reads per connection. A source that failed its last read is left out, so no stale
 * or invented value is exposed; its failure is logged once until it reads again.
 */
export class MigrationTracker {
  private readonly entries = new Map<string, Entry>();
  /** Sources whose failure is logged and that have not read successfully since. */
  private readonly failing = new Set<string>();
  private readonly timer: NodeJS.Timeout | undefined;
  readonly collector: Collector;

  constructor(registry: Registry, private readonly options: MigrationTrackerOptions) {
    const applied = registry.exposedName(MIGRATIONS.applied);
    const unapplied = registry.exposedName(MIGRATIONS.unapplied);
    this.collector = {
      collect: () => {
        const totals = this.totals();
        const points = (pick: (c: MigrationCounts) => number): ValuePoint[] => [...totals].map(([connection, c]) => ({ labels: [connection], value: pick(c) }));
        const snapshots: GaugeSnapshot[] = [
          { def: MIGRATIONS.unapplied as GaugeSnapshot['def'], name: unapplied, points: points((c) => c.unapplied) },
          { def: MIGRATIONS.applied as GaugeSnapshot['def'], name: applied, points: points((c) => c.applied) },
        ];
        return snapshots;
      },
    };
    if (options.enabled && options.refreshSeconds > 0) {
      // Timer callbacks run outside any app call: a throw there would end the process.
      this.timer = setInterval(() => contain('migrations refresh timer', () => this.refreshAll()), options.refreshSeconds * 1000);
      this.timer.unref();
    }
  }

  /**
   * Tracks a source and reads it soon (never on the caller's stack). A source whose key is
   * already tracked is not added twice: its handle refreshes the one already there.
   */
  add(source: MigrationSource): MigrationHandle {
    if (!this.options.enabled) return INERT;
    let entry = this.entries.get(source.key);
    if (entry === undefined) {
      entry = { source, counts: undefined, reading: undefined, again: false, holders: 0, stopped: false };
      this.entries.set(source.key, entry);
      const added = entry;
      setImmediate(() => contain('migrations first read', () => this.refresh(added)));
    }
    const tracked = entry;
    tracked.holders++;
    let held = true;
    return {
      refresh: () => this.refresh(tracked),
      stop: () => {
        if (!held) return;
        held = false;
        if (--tracked.holders === 0) this.remove(tracked);
      },
    };
  }

  /** Re-reads every source (the refresh timer). */
  refreshAll(): Promise<void> {
    return Promise.all([...this.entries.values()].map((e) => this.refresh(e))).then(() => {});
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const entry of [...this.entries.values()]) this.remove(entry);
  }

  private remove(entry: Entry): void {
    entry.stopped = true;
    if (this.entries.get(entry.source.key) !== entry) return;
    this.entries.delete(entry.source.key);
    // A source added again later starts a new outage count.
    this.failing.delete(entry.source.key);
  }

  private refresh(entry: Entry): Promise<void> {
    if (entry.stopped) return Promise.resolve();
    if (entry.reading !== undefined) {
      // The read in flight may have started before the run that asks for this refresh.
      entry.again = true;
      return entry.reading;
    }
    const reading = this.readOnce(entry).then(() => {
      entry.reading = undefined;
      if (entry.again) {
        entry.again = false;
        return this.refresh(entry);
      }
      return undefined;
    });
    entry.reading = reading;
    return reading;
  }

  private async readOnce(entry: Entry): Promise<void> {
    const { source } = entry;
    try {
      const counts = checked(await withinLimit(() => source.read()));
      if (entry.stopped) return;
      entry.counts = counts;
      this.failing.delete(source.key);
    } catch (err) {
      if (entry.stopped) return;
      entry.counts = undefined;
      // One line per outage, not one per refresh.
      if (this.failing.has(source.key)) return;
      this.failing.add(source.key);
      this.options.log(`migrations: cannot read the ${source.tool} migrations of connection "${source.connection}"; left out until a read succeeds: ${errorText(err)}`);
    }
  }

  /** Each connection's counts, summed over its sources that read successfully. */
  private totals(): Map<string, MigrationCounts> {
    const totals = new Map<string, MigrationCounts>();
    for (const { source, counts } of this.entries.values()) {
      if (counts === undefined) continue;
      const sum = totals.get(source.connection);
      totals.set(source.connection, sum === undefined ? counts : { applied: sum.applied + counts.applied, unapplied: sum.unapplied + counts.unapplied });
    }
    return totals;
  }
}

function withinLimit<T>(read: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${READ_LIMIT_MS / 1000} s`)), READ_LIMIT_MS);
    timer.unref();
    // A read that throws synchronously is a failed read like any other.
    Promise.resolve()
      .then(read)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

function checked(counts: MigrationCounts): MigrationCounts {
  const valid = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (typeof counts !== 'object' || counts === null || !valid(counts.applied) || !valid(counts.unapplied)) {
    throw new Error('the source did not give two counts (integers >= 0)');
  }
  return { applied: counts.applied, unapplied: counts.unapplied };
}

/** The error as one line: a multi-line message would split the warning, an empty one (a refused connect's AggregateError) would say nothing. */
function errorText(err: unknown): string {
  const { message, code, name } = (err ?? {}) as { message?: unknown; code?: unknown; name?: unknown };
  const text = [message, code, name].find((part) => typeof part === 'string' && part.trim() !== '') ?? String(err);
  return (text as string).replace(/\s+/g, ' ').trim();
}
