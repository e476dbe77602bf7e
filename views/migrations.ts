import { family } from './family.js';

/** The 2 migration gauges (metrics.md section 7): gauges named `*_total`, printed as written (E2). */
const migration = (n: Omit<Parameters<typeof family>[0], 'group' | 'type' | 'labels'>) =>
  family({ ...n, group: 'migrations', type: 'gauge', labels: ['connection'] });

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
