import { createRequire } from 'node:module';
import type { InstrumentationContext } from '../instrumentation-context.js';
import type { Disable } from '../otel/package-loads.js';
import { currentDistribution } from '../state.js';
import type { MigrationTracker } from './tracker.js';

// The tool hooks load with their tool (src/otel/package-loads.ts): require, to do it synchronously.
const require = createRequire(import.meta.url);

/** Each migration tool whose sources are discovered without user code, and its hook. */
const TOOLS: ReadonlyArray<[packages: string[], enable: (tracker: MigrationTracker) => Disable]> = [
  [['knex'], (t) => (require('./knex.js') as typeof import('./knex.js')).enableKnexMigrations(t)],
  [['umzug'], (t) => (require('./umzug.js') as typeof import('./umzug.js')).enableUmzugMigrations(t)],
  [['typeorm'], (t) => (require('./typeorm.js') as typeof import('./typeorm.js')).enableTypeormMigrations(t)],
  [['@prisma/client', '@prisma/adapter-pg'], (t) => (require('./prisma.js') as typeof import('./prisma.js')).enablePrismaMigrations(t)],
  [['kysely'], (t) => (require('./kysely.js') as typeof import('./kysely.js')).enableKyselyMigrations(t)],
  [['node-pg-migrate'], (t) => (require('./node-pg-migrate.js') as typeof import('./node-pg-migrate.js')).enableNodePgMigrateMigrations(t)],
];

/**
 * Installs the hooks that discover migration sources and refresh them after runs through the
 * tool. Only with PROMETHEUS_EXPORT_MIGRATIONS on: off, the tools are left untouched.
 */
export function enableMigrationSources(context: InstrumentationContext, tracker: MigrationTracker): Disable {
  if (!context.config.exportMigrations) return () => {};
  const disables = TOOLS.map(([packages, enable]) => context.activate(packages, () => enable(tracker)));
  return () => {
    for (const disable of disables) disable();
  };
}

/** The running distribution's tracker; `undefined` when none runs. */
export function currentMigrationTracker(): MigrationTracker | undefined {
  return currentDistribution()?.migrations;
}
