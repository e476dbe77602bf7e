import { formatFloat } from '../exposition/format.js';
import { Family } from './family.js';
import type { LabelText } from './labels.js';

interface CounterSeries {
  readonly labels: LabelText;
  value: number;
}

/** A monotonic counter family. Unlabelled families always print their sample, from 0 (E8). */
export class Counter extends Family<CounterSeries> {
  private readonly unlabelled = this.def.labels.length === 0;
  private total = 0;

  protected create(labels: LabelText): CounterSeries {
    return { labels, value: 0 };
  }

  /** Unlabelled increment (the hot path of most request counters). */
  inc(by = 1): void {
    this.total += by;
  }

  /** Labelled increment; `values` in the family's declared label order. */
  add(values: readonly string[], by = 1): void {
    this.find(values).value += by;
  }

  /** Creates the series at 0 if absent (model registration pre-creates its series). */
  touch(values: readonly string[]): void {
    this.find(values);
  }

  *write(out: string[]): Generator<void, void, undefined> {
    out.push(this.header);
    if (this.unlabelled) {
      out.push(`${this.name} ${formatFloat(this.total)}\n`);
      return;
    }
    for (const s of this.allSeries()) {
      out.push(`${this.name}${s.labels.braces} ${formatFloat(s.value)}\n`);
      yield;
    }
  }
}
