import { Family, type SeriesBase } from './family.js';
import type { GaugeSnapshot } from './snapshot.js';

interface GaugeSeries extends SeriesBase {
  value: number;
}

/** A labelled gauge family whose series are set, never incremented (migration gauges). */
export class Gauge extends Family<GaugeSeries> {
  protected create(labels: readonly string[]): GaugeSeries {
    return { labels, value: 0, outputCache: undefined };
  }

  set(values: readonly string[], value: number): void {
    this.find(values).value = value;
  }

  snapshot(): GaugeSnapshot {
    return { def: this.def as GaugeSnapshot['def'], name: this.name, points: this.allSeries() };
  }
}
