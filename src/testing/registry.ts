import { parseFloatText, type Sample } from './parse.js';
import { scrapeSamples, type MetricsSource } from './source.js';

/** Deep-frozen samples of one scrape, from `saveRegistry()`. */
export type FrozenRegistry = readonly Sample[];

/**
 * Labels to look up. The set must match a sample's exactly; values compare as strings, except
 * `le`, compared as numbers (`128`, `"128"` and `"128.0"` all match `le="128.0"`).
 */
export type LabelQuery = Readonly<Record<string, string | number>>;

/** Every sample of one name, as `[labels, value]` pairs. */
export type MetricVector = Array<[Record<string, string>, number]>;

/** A deep, immutable snapshot of every sample the source serializes now. */
export async function saveRegistry(source?: MetricsSource): Promise<FrozenRegistry> {
  const samples = await scrapeSamples(source);
  for (const s of samples) {
    Object.freeze(s.labels);
    Object.freeze(s);
  }
  return Object.freeze(samples);
}

/** The value of the sample with this exact name and label set, or `undefined`. */
export async function getMetric(name: string, labels: LabelQuery = {}, source?: MetricsSource): Promise<number | undefined> {
  return getMetricFromFrozenRegistry(name, await scrapeSamples(source), labels);
}

export function getMetricFromFrozenRegistry(name: string, frozen: FrozenRegistry, labels: LabelQuery = {}): number | undefined {
  return frozen.find((s) => s.name === name && sameLabels(s.labels, labels))?.value;
}

/** Every sample with this exact name; `[]` if there is none. */
export async function getMetricsVector(name: string, source?: MetricsSource): Promise<MetricVector> {
  return getMetricVectorFromFrozenRegistry(name, await scrapeSamples(source));
}

export function getMetricVectorFromFrozenRegistry(name: string, frozen: FrozenRegistry): MetricVector {
  // Copies, so callers may edit what they get without touching the snapshot.
  return frozen.filter((s) => s.name === name).map((s) => [{ ...s.labels }, s.value]);
}

function sameLabels(actual: Readonly<Record<string, string>>, wanted: LabelQuery): boolean {
  const keys = Object.keys(wanted);
  return (
    keys.length === Object.keys(actual).length &&
    keys.every((k) => Object.hasOwn(actual, k) && sameLabelValue(k, actual[k]!, wanted[k]!))
  );
}

function sameLabelValue(key: string, actual: string, wanted: string | number): boolean {
  if (key !== 'le') return actual === String(wanted);
  return parseFloatText(actual) === (typeof wanted === 'number' ? wanted : parseFloatText(wanted));
}
