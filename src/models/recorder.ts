import { MODELS } from '../../views/models.js';
import type { Counter } from '../store/counter.js';
import type { Registry } from '../store/registry.js';
import { currentDistribution } from '../state.js';
import { registeredModelNames } from './registrations.js';

export type ModelOperation = 'insert' | 'update' | 'delete';

/** The 3 model-operation families (django_model_*_total by `model`). */
export class ModelRecorder {
  private readonly counters: Record<ModelOperation, Counter>;
  /** Label tuples by model name, allocated once per model. */
  private readonly labels = new Map<string, readonly string[]>();

  constructor(
    registry: Registry,
    /** PROMETHEUS_EXPORT_MODEL_BULK: bulk writes count their affected rows. */
    readonly bulk: boolean,
  ) {
    this.counters = { insert: registry.counter(MODELS.inserts), update: registry.counter(MODELS.updates), delete: registry.counter(MODELS.deletes) };
    // Models registered before the distribution started get their zero series too.
    for (const name of registeredModelNames()) this.labelsOf(name);
  }

  /** One instance operation, counted before the write runs (a failing write counts, as in Django). */
  count(model: string, operation: ModelOperation): void {
    this.counters[operation].add(this.labelsOf(model), 1);
  }

  /** A bulk write's affected rows, after it succeeded; nothing unless PROMETHEUS_EXPORT_MODEL_BULK is on. */
  countBulk(model: string, operation: ModelOperation, rows: number): void {
    if (this.bulk && Number.isFinite(rows) && rows > 0) this.counters[operation].add(this.labelsOf(model), rows);
  }

  /**
   * A model's three series are created together at registration, so the dashboards' `model`
   * variable lists it and its rates read 0, not "no data", before its first write.
   */
  labelsOf(model: string): readonly string[] {
    let labels = this.labels.get(model);
    if (labels === undefined) {
      labels = [model];
      for (const counter of Object.values(this.counters)) counter.touch(labels);
      this.labels.set(model, labels);
    }
    return labels;
  }
}

/** The running distribution's model recorder; `undefined` when none runs (hooks then count nothing). */
export function currentModelRecorder(): ModelRecorder | undefined {
  return currentDistribution()?.models;
}
