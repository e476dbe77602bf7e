import type { Disable } from '../otel/package-loads.js';
import type { MigrationTracker } from './tracker.js';

export function enablePrismaMigrations(_tracker: MigrationTracker): Disable {
  return () => {};
}
