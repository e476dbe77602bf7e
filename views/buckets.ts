/** E4: django-prometheus's default latency buckets (seconds); `+Inf` is implicit. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 25, 50, 75,
]);

/** E5: `PowersOf(2, 30)`: 0, then 2^0 … 2^29; `+Inf` is implicit. Fixed. */
export const BODY_BUCKETS: readonly number[] = Object.freeze([0, ...Array.from({ length: 30 }, (_, i) => 2 ** i)]);

/** The bounds of a bucket layout, given the configured latency buckets. */
export function bucketBounds(layout: 'latency' | 'body' | readonly number[], latency: readonly number[]): readonly number[] {
  if (layout === 'latency') return latency;
  return layout === 'body' ? BODY_BUCKETS : layout;
}
