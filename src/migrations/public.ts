/** The public migration API, re-exported by src/index.ts. */
import { isValidAlias, DEFAULT_ALIAS } from '../db/aliases.js';
import { contain } from '../contain.js';
import { logLine } from '../log.js';
import { currentMigrationTracker } from './index.js';
import type { MigrationCounts, MigrationHandle } from './tracker.js';

/** A count, or how to get it when the gauges are refreshed. */
export type MigrationCount = number | (() => number | Promise<number>);

export interface TrackMigrationsOptions {
  /** The `connection` label (a DB alias); default `default`. */
  connection?: string;
  applied: MigrationCount;
  unapplied: MigrationCount;
}

let explicitSources = 0;

/**
 * Feeds the two migration gauges from any tool: `applied` and `unapplied` are read now, on
 * `refresh()` (call it after the tool runs), and on the PROMETHEUS_MIGRATIONS_REFRESH_SECONDS
 * timer. Each call is its own source; several on one connection are summed. Does nothing unless
 * PROMETHEUS_EXPORT_MIGRATIONS is on. Never throws: a failing or invalid count is logged and the
 * source is left out until it reads again.
 */
export function trackMigrations(options: TrackMigrationsOptions): MigrationHandle {
  const inert: MigrationHandle = { refresh: async () => {}, stop: () => {} };
  if (typeof options !== 'object' || options === null) {
    logLine('trackMigrations: expected an object { connection, applied, unapplied }; ignored');
    return inert;
  }
  const connection = options.connection ?? DEFAULT_ALIAS;
  if (!isValidAlias(connection)) {
    logLine('trackMigrations: invalid connection (expected 1-64 characters of A-Z a-z 0-9 _ . -); ignored');
    return inert;
  }
  const tracker = currentMigrationTracker();
  if (tracker === undefined) return inert;
  const { applied, unapplied } = options;
  const read = async (): Promise<MigrationCounts> => ({ applied: await countOf(applied), unapplied: await countOf(unapplied) });
  const handle = contain('trackMigrations', () => tracker.add({ key: `trackMigrations#${++explicitSources}`, tool: 'trackMigrations', connection, read }));
  if (handle === undefined) return inert;
  // The app awaits these: they must neither throw nor reject.
  return {
    refresh: () => contain('trackMigrations refresh', () => handle.refresh()) ?? Promise.resolve(),
    stop: () => contain('trackMigrations stop', () => handle.stop()),
  };
}

async function countOf(count: MigrationCount): Promise<number> {
  return typeof count === 'function' ? await count() : count;
}
