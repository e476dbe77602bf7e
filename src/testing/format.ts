import { escapeLabelValue } from '../exposition/format.js';
import type { LabelQuery, MetricVector } from './registry.js';

/** `{k="v",...}` in the given order, values escaped as in the exposition, for messages. */
export function formatLabels(labels: LabelQuery): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`)
    .join(',')}}`;
}

/** One `{labels} = value` line per sample, for messages. */
export function formatVector(vector: MetricVector): string {
  return vector.map(([labels, value]) => `${formatLabels(labels)} = ${value}`).join('\n');
}
