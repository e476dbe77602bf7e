import { family } from './family.js';

/** The 2 migration gauges (metrics.md section 7): gauges named `*_total`, printed as written (E2). */
// Every process sees the same migration table: the largest count is the freshest.
const migration = (n: { name: string; help: string }) => family({ ...n, group: 'migrations', type: 'gauge', labels: ['connection'], merge: 'max' });

export const MIGRATIONS = {
  unapplied: migration({
    name: 'django_migrations_unapplied_total',
    help: 'Count of unapplied migrations by database connection',
  }),
  applied: migration({
    name: 'django_migrations_applied_total',
    help: 'Count of applied migrations by database connection',
  }),
} as const;
