import { family, type FamilyDef } from './family.js';

/** The 6 database families (metrics.md section 4). */
const db = (n: Omit<FamilyDef, 'group' | 'merge'> & { type: 'counter' | 'histogram' }) => family({ ...n, group: 'db' });

export const DB = {
  newConnections: db({
    name: 'django_db_new_connections_total',
    help: 'Counter of created connections by database and by vendor.',
    type: 'counter', labels: ['alias', 'vendor'],
  }),
  newConnectionErrors: db({
    name: 'django_db_new_connection_errors_total',
    help: 'Counter of connection failures by database and by vendor.',
    type: 'counter', labels: ['alias', 'vendor'],
  }),
  execute: db({
    name: 'django_db_execute_total',
    help: 'Counter of executed statements by database and by vendor, including bulk executions.',
    type: 'counter', labels: ['alias', 'vendor'],
  }),
  executeMany: db({
    name: 'django_db_execute_many_total',
    help: 'Counter of executed statements in bulk operations by database and by vendor.',
    type: 'counter', labels: ['alias', 'vendor'],
  }),
  errors: db({
    name: 'django_db_errors_total',
    help: 'Counter of execution errors by database, vendor and exception type.',
    type: 'counter', labels: ['alias', 'vendor', 'type'],
  }),
  queryDuration: db({
    name: 'django_db_query_duration_seconds',
    help: 'Histogram of query duration by database and vendor.',
    type: 'histogram', labels: ['alias', 'vendor'], buckets: 'latency',
  }),
} as const;
