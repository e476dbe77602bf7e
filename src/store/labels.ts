import { escapeLabelValue } from '../exposition/format.js';

/**
 * A series' label text, computed once when the series is created so that a scrape only
 * concatenates. Pairs are sorted by name (E7); histograms need the pairs split around `le`.
 */
export interface LabelText {
  /** `{a="x",b="y"}`, or `` for no labels. */
  readonly braces: string;
  /** Sorted pairs whose name sorts before `le`, each followed by a comma. */
  readonly beforeLe: string;
  /** Sorted pairs whose name sorts after `le`, each preceded by a comma. */
  readonly afterLe: string;
}

export function labelText(names: readonly string[], values: readonly string[]): LabelText {
  const pairs = names.map((n, i) => [n, `${n}="${escapeLabelValue(values[i] ?? '')}"`] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const all = pairs.map((p) => p[1]);
  return {
    braces: all.length ? `{${all.join(',')}}` : '',
    beforeLe: pairs.filter((p) => p[0] < 'le').map((p) => p[1] + ',').join(''),
    afterLe: pairs.filter((p) => p[0] > 'le').map((p) => ',' + p[1]).join(''),
  };
}

/** The label set that replaces any series beyond the per-family limit (E12, OTel's convention). */
export const OVERFLOW_LABELS = { names: ['otel_metric_overflow'], values: ['true'] } as const;
