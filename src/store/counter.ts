import { Family, type SeriesBase } from './family.js';
import { LastSeries } from './label-values.js';
import type { CounterSnapshot, Exemplar, ExemplarTrace } from './snapshot.js';

/**
 * Bumped by every recording of every counter and histogram of the process: a publisher of the
 * process's state compares it with the value at its last write to skip writing an idle state.
 * One increment of a constant object's field, no allocation.
 */
export const storeChanges = { count: 0 };

interface CounterSeries extends SeriesBase {
  value: number;
  exemplar: Exemplar | undefined;
}

/** A monotonic counter family. Unlabelled families always have their one series, from 0 (E8). */
export class Counter extends Family<CounterSeries> {
  /** The unlabelled series, present from startup. */
  private readonly single: CounterSeries | undefined = this.def.labels.length === 0 ? this.create([]) : undefined;
  private readonly last = new LastSeries<CounterSeries>();
  private readonly lookup = (values: readonly string[]): CounterSeries => this.find(values);

  protected create(labels: readonly string[]): CounterSeries {
    return { labels, value: 0, exemplar: undefined, outputCache: undefined };
  }

  /** Unlabelled increment (the hot path of most request counters). */
  inc(by = 1): void {
    storeChanges.count++;
    this.single!.value += by;
  }

  /**
   * Labelled increment; `values` in the family's declared label order. With `trace`, the
   * increment also becomes the series' exemplar (the latest one wins).
   */
  add(values: readonly string[], by = 1, trace?: ExemplarTrace): void {
    storeChanges.count++;
    const series = this.last.get(values, this.lookup);
    series.value += by;
    if (trace !== undefined) series.exemplar = { labels: trace.labels, value: by, timestamp: trace.timestamp, outputCache: undefined };
  }

  /** Creates the series at 0 if absent (model registration pre-creates its series). */
  touch(values: readonly string[]): void {
    storeChanges.count++;
    this.find(values);
  }

  snapshot(): CounterSnapshot {
    return { def: this.def as CounterSnapshot['def'], name: this.name, points: this.single !== undefined ? [this.single] : this.allSeries() };
  }
}
