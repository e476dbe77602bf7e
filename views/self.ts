import { family, type FamilyDef } from './family.js';

/**
 * The package's own families, about how it works rather than about the app: exposed only where
 * the feature they describe is on, under their own names (never namespaced).
 */
export const SELF = {
  /** Multi-process mode: a scrape that could not wait for a process's fresh state. */
  multiprocessTimeouts: family({
    name: 'otel_django_metrics_multiprocess_timeouts_total',
    help: "Scrapes that used a process's last published values because it did not publish in time.",
    type: 'counter',
    labels: [],
    group: 'self',
  }),
} as const;

export const SELF_FAMILIES: readonly FamilyDef[] = Object.freeze(Object.values(SELF));
