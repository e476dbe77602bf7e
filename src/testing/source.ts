import { currentDistribution } from '../state.js';
import { parseSamples, type Sample } from './parse.js';

/**
 * Where live reads come from: anything whose `scrape()` resolves to Prometheus text 0.0.4. The
 * `Distribution` returned by `start()` is one; so is an object that fetches another process's
 * `/metrics`. By default, the distribution running in this process.
 */
export interface MetricsSource {
  scrape(): Promise<string>;
}

/** Every sample a scrape of `source` serializes, in exposition order. */
export async function scrapeSamples(source: MetricsSource | undefined): Promise<Sample[]> {
  const from = source ?? currentDistribution();
  if (from === undefined) {
    throw new Error(
      'otel-django-metrics/testing: no distribution is running and no source was given; ' +
        'load otel-django-metrics/register (or call start()) before reading metrics, or pass a source',
    );
  }
  return parseSamples(await from.scrape());
}
