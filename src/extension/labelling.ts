import { djangoName, type FamilyDef } from '../../views/index.js';
import { describeError } from '../contain.js';
import type { RequestState } from '../http/request-state.js';
import { onceLogger } from '../log.js';
import type { Counter } from '../store/counter.js';
import type { Histogram } from '../store/histogram.js';
import type { ExemplarTrace } from '../store/snapshot.js';
import type { LabelMetric, MetricInfo } from './options.js';

/** What a recorder does with a counter family: the store's Counter, or the same through `labelMetric`. */
export type CountOps = Pick<Counter, 'inc' | 'add'>;
/** What a recorder does with a histogram family. */
export type ObserveOps = Pick<Histogram, 'observe' | 'observeWith'>;

/** The request a recorder is measuring right now, as the labellers read it. */
export interface CurrentRequest {
  current: RequestState | undefined;
}

const NO_LABELS: readonly string[] = [];

/**
 * Turns a family's own label values into the values of its reshaped family (its labels, then the
 * app's extra labels): through the app's `labelMetric` when there is one, else the extra labels
 * are empty. A `labelMetric` that throws or returns no object leaves the family's own labels and
 * empty extras (one line, once); keys the family does not declare are dropped (one line per key).
 */
export class Labeller {
  private readonly metric: MetricInfo;
  private readonly own: readonly string[];
  private readonly all: readonly string[];
  private readonly declared: ReadonlySet<string>;
  /** Reused for every recording: the store copies a tuple only when it makes a new series. */
  private readonly out: string[];

  constructor(
    catalog: FamilyDef,
    shaped: FamilyDef,
    private readonly labelMetric: LabelMetric | undefined,
    private readonly request: CurrentRequest,
    private readonly warnOnce: (key: string, message: string) => void,
  ) {
    this.metric = Object.freeze({ name: catalog.name, djangoName: djangoName(catalog) });
    this.own = catalog.labels;
    this.all = shaped.labels;
    this.declared = new Set(shaped.labels);
    this.out = new Array<string>(shaped.labels.length).fill('');
  }

  values(own: readonly string[]): readonly string[] {
    const out = this.out;
    const labels = this.labelMetric === undefined ? undefined : this.ask(own);
    if (labels === undefined) {
      for (let i = 0; i < out.length; i++) out[i] = i < this.own.length ? (own[i] ?? '') : '';
      return out;
    }
    for (let i = 0; i < out.length; i++) out[i] = text(labels[this.all[i]!]);
    for (const key of Object.keys(labels)) {
      if (!this.declared.has(key)) this.warnOnce(`${this.metric.name} ${key}`, `configure: labelMetric returned label ${JSON.stringify(key)} for ${this.metric.name}, which does not declare it (extraLabels); dropped`);
    }
    return out;
  }

  private ask(own: readonly string[]): Record<string, unknown> | undefined {
    const state = this.request.current;
    if (state === undefined) return undefined;
    const labels: Record<string, string> = {};
    for (let i = 0; i < this.own.length; i++) labels[this.own[i]!] = own[i] ?? '';
    let result: unknown;
    try {
      result = this.labelMetric!(this.metric, labels, { req: state.req, res: state.res });
    } catch (err) {
      this.warnOnce(`${this.metric.name} threw`, `configure: labelMetric threw for ${this.metric.name} (${describeError(err)}); its default labels apply`);
      return undefined;
    }
    if (result !== null && typeof result === 'object') return result as Record<string, unknown>;
    this.warnOnce(`${this.metric.name} result`, `configure: labelMetric returned ${result === null ? 'null' : typeof result} for ${this.metric.name}, not labels; its default labels apply`);
    return undefined;
  }
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : String(value);
}

/** A counter family recorded through a Labeller. */
export class LabelledCounter implements CountOps {
  constructor(
    private readonly target: Counter,
    private readonly labeller: Labeller,
  ) {}

  inc(by = 1): void {
    this.target.add(this.labeller.values(NO_LABELS), by);
  }

  add(values: readonly string[], by = 1, trace?: ExemplarTrace): void {
    this.target.add(this.labeller.values(values), by, trace);
  }
}

/** A histogram family recorded through a Labeller. */
export class LabelledHistogram implements ObserveOps {
  constructor(
    private readonly target: Histogram,
    private readonly labeller: Labeller,
  ) {}

  observe(value: number, trace?: ExemplarTrace): void {
    this.target.observeWith(this.labeller.values(NO_LABELS), value, trace);
  }

  observeWith(values: readonly string[], value: number, trace?: ExemplarTrace): void {
    this.target.observeWith(this.labeller.values(values), value, trace);
  }
}

/** One line per problem with the app's labelMetric for the life of the process, however often it is configured. */
const warnOnce = onceLogger();

/** Builds labelled families for the HTTP recorder while an app's label hooks are configured. */
export class Labelling {
  constructor(
    private readonly labelMetric: LabelMetric | undefined,
    private readonly request: CurrentRequest,
  ) {}

  /** Whether a family must be recorded through a Labeller: a `labelMetric`, or extra labels to fill. */
  applies(catalog: FamilyDef, shaped: FamilyDef): boolean {
    return this.labelMetric !== undefined || shaped.labels.length > catalog.labels.length;
  }

  counter(catalog: FamilyDef, target: Counter): CountOps {
    return new LabelledCounter(target, new Labeller(catalog, target.def, this.labelMetric, this.request, warnOnce));
  }

  histogram(catalog: FamilyDef, target: Histogram): ObserveOps {
    return new LabelledHistogram(target, new Labeller(catalog, target.def, this.labelMetric, this.request, warnOnce));
  }
}
