import { family } from './family.js';

/** The 3 model-operation families (metrics.md section 6). */
const model = (n: { name: string; help: string }) =>
  family({ ...n, group: 'models', type: 'counter', labels: ['model'] });

export const MODELS = {
  inserts: model({ name: 'django_model_inserts_total', help: 'Number of insert operations by model.' }),
  updates: model({ name: 'django_model_updates_total', help: 'Number of update operations by model.' }),
  deletes: model({ name: 'django_model_deletes_total', help: 'Number of delete operations by model.' }),
} as const;
