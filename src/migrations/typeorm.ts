import type { Disable } from '../otel/package-loads.js';
import type { MigrationTracker } from './tracker.js';

export function enableTypeormMigrations(_tracker: MigrationTracker): Disable {
  return () => {};
}
