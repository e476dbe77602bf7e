import { formatFloat } from '../exposition/format.js';
import { Family } from './family.js';
import type { LabelText } from './labels.js';

interface GaugeSeries {
  readonly labels: LabelText;
  value: number;
}

/** A labelled gauge family whose series are set, never incremented (migration gauges). */
export class Gauge extends Family<GaugeSeries> {
  protected create(labels: LabelText): GaugeSeries {
    return { labels, value: 0 };
  }

  set(values: readonly string[], value: number): void {
    this.find(values).value = value;
  }

  *write(out: string[]): Generator<void, void, undefined> {
    out.push(this.header);
    for (const s of this.allSeries()) {
      out.push(`${this.name}${s.labels.braces} ${formatFloat(s.value)}\n`);
      yield;
    }
  }
}
