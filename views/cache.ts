import { family } from './family.js';

/** The 4 cache families (metrics.md section 5). HELP texts have no final period, as in Django. */
const cache = (n: { name: string; help: string }) =>
  family({ ...n, group: 'cache', type: 'counter', labels: ['backend'] });

export const CACHE = {
  get: cache({ name: 'django_cache_get_total', help: 'Total get requests on cache' }),
  hits: cache({ name: 'django_cache_get_hits_total', help: 'Total hits on cache' }),
  misses: cache({ name: 'django_cache_get_misses_total', help: 'Total misses on cache' }),
  fail: cache({ name: 'django_cache_get_fail_total', help: 'Total get request failures by cache' }),
} as const;
