import { performance } from 'node:perf_hooks';
import type { Exemplar, FamilySnapshot, HistogramPoint, HistogramSnapshot, Point, ValuePoint } from '../store/snapshot.js';
import type { FamilyType } from '../../views/index.js';
import { escapeLabelValue, familyHeader, formatFloat, TARGET_HELP } from './format.js';
import type { TakeParts } from './scrape-source.js';
import { fullLoopTurn } from '../loop-turn.js';

/** Longest stretch a scrape keeps the event loop, in milliseconds. */
const SLICE_MS = 10;

/**
 * What differs between the text formats the writers write: samples and their labels are the same
 * text in both; a family's metadata lines, exemplars, the target metadata and the end are not.
 */
export interface TextFlavour {
  /** A family's metadata lines; `name` is the sample name (a counter's ends in `_total`). */
  header(name: string, help: string, type: FamilyType): string;
  /** An exemplar's text after its sample's value; absent: the format has no exemplars. */
  readonly exemplar?: (exemplar: Exemplar) => string;
  /** The OTel resource as target metadata, from its rendered label set. */
  targetInfo(labels: string): string;
  /** Whether the target metadata leads the exposition (else it leads the OTel SDK's metrics). */
  readonly targetFirst: boolean;
  /** What ends an exposition. */
  readonly end: string;
}

/** The Prometheus 0.0.4 text format: `# HELP` and `# TYPE` under the sample name, no exemplars. */
export const PROMETHEUS_TEXT: TextFlavour = {
  header: familyHeader,
  // OpenTelemetry's rule for formats without the info type: a gauge named `target_info`.
  targetInfo: (labels) => `${familyHeader('target_info', TARGET_HELP, 'gauge')}target_info${labels} 1.0\n`,
  targetFirst: false,
  end: '',
};

/**
 * Writes collected families as text into `out`, by default the Prometheus 0.0.4 text format. A
 * scrape of tens of thousands of series takes longer than an app can stall, so the work is cut
 * into slices of at most SLICE_MS with the event loop given back between them. `take` sees the
 * text after every series, so a response can send it on as it grows (see ScrapeSource).
 */
export async function writeExposition(
  snapshots: Iterable<FamilySnapshot>,
  out: string[],
  take?: TakeParts,
  flavour: TextFlavour = PROMETHEUS_TEXT,
): Promise<void> {
  let sliceStart = performance.now();
  for (const snapshot of snapshots) {
    out.push(flavour.header(snapshot.name, snapshot.def.help, snapshot.def.type));
    const series =
      snapshot.def.type === 'histogram'
        ? histogramLines(snapshot as HistogramSnapshot, out, flavour.exemplar)
        : valueLines(snapshot, out, snapshot.def.type === 'counter' ? flavour.exemplar : undefined);
    for (const _ of series) {
      const reading = take?.(out);
      if (reading !== undefined) await reading;
      if (performance.now() - sliceStart < SLICE_MS) continue;
      await fullLoopTurn();
      sliceStart = performance.now();
    }
  }
}

/** Formats an exemplar after its sample; `undefined`: none are written. */
type ExemplarText = TextFlavour['exemplar'];

/** A counter's or gauge's samples, pausing (yield) after each series. */
function* valueLines(snapshot: FamilySnapshot, out: string[], exemplarText: ExemplarText): Generator<void, void, undefined> {
  const { name, def } = snapshot;
  for (const point of snapshot.points as Iterable<ValuePoint & Cached>) {
    // The cached text inline: a call per series is a measurable share of a 24k-series scrape.
    const braces = (point.outputCache as string | undefined) ?? render(point, def.labels, bracesOf);
    const exemplar = exemplarText === undefined ? undefined : point.exemplar;
    out.push(`${name}${braces} ${formatFloat(point.value)}${exemplar === undefined ? '' : exemplarText!(exemplar)}\n`);
    yield;
  }
}

/** A histogram's `_bucket` (cumulative), `_count` and `_sum` samples, pausing after each series. */
function* histogramLines(snapshot: HistogramSnapshot, out: string[], exemplarText: ExemplarText): Generator<void, void, undefined> {
  const { name, def } = snapshot;
  const leTexts = leTextsOf(snapshot.bounds);
  for (const point of snapshot.points as Iterable<HistogramPoint & Cached>) {
    const { braces, beforeLe, afterLe } = (point.outputCache as HistogramLabels | undefined) ?? render(point, def.labels, histogramLabels);
    const { counts } = point;
    const exemplars = exemplarText === undefined ? undefined : point.exemplars;
    let cumulative = 0;
    for (let i = 0; i < leTexts.length; i++) {
      cumulative += counts[i]!;
      const exemplar = exemplars?.[i];
      out.push(`${name}_bucket{${beforeLe}${leTexts[i]}${afterLe}} ${formatFloat(cumulative)}${exemplar === undefined ? '' : exemplarText!(exemplar)}\n`);
    }
    out.push(`${name}_count${braces} ${formatFloat(point.count)}\n${name}_sum${braces} ${formatFloat(point.sum)}\n`);
    yield;
  }
}

type Pairs = ReadonlyArray<readonly [name: string, text: string]>;

/** The store's series keep an `outputCache` slot; points made by collectors have none. */
type Cached = { outputCache?: unknown };

/**
 * A point's rendered labels, on its first write; for the store's series they are kept in the
 * series' `outputCache` slot, so that later scrapes only concatenate.
 */
function render<T>(point: Point & Cached, familyLabels: readonly string[], format: (pairs: Pairs) => T): T {
  const names = (point as { labelNames?: readonly string[] }).labelNames ?? familyLabels;
  // Pairs sorted by label name (E7).
  const pairs = names.map((n, i) => [n, `${n}="${escapeLabelValue(point.labels[i] ?? '')}"`] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const text = format(pairs);
  if ('outputCache' in point) point.outputCache = text;
  return text;
}

function bracesOf(pairs: Pairs): string {
  return pairs.length ? `{${pairs.map((p) => p[1]).join(',')}}` : '';
}

interface HistogramLabels {
  braces: string;
  beforeLe: string;
  afterLe: string;
}

/** Histograms need the pairs split around `le` as well. */
function histogramLabels(pairs: Pairs): HistogramLabels {
  return {
    braces: bracesOf(pairs),
    beforeLe: pairs.filter((p) => p[0] < 'le').map((p) => p[1] + ',').join(''),
    afterLe: pairs.filter((p) => p[0] > 'le').map((p) => ',' + p[1]).join(''),
  };
}

/** `le="…"` texts of a bucket layout, formatted once per layout. */
const leTextCache = new WeakMap<readonly number[], readonly string[]>();
function leTextsOf(bounds: readonly number[]): readonly string[] {
  let texts = leTextCache.get(bounds);
  if (texts === undefined) {
    texts = [...bounds.map(formatFloat), '+Inf'].map((t) => `le="${t}"`);
    leTextCache.set(bounds, texts);
  }
  return texts;
}
