import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { FamilySnapshot } from '../store/snapshot.js';
import { writeOtelMetrics } from './otel-metrics.js';
import { writeExposition } from './prometheus-text.js';
import type { ScrapeSource } from './scrape-source.js';

/**
 * What a scrape writes: the collected families (`families`: this process's, or the multi-process
 * merge), then what the OTel SDK collected (the app's own instruments).
 */
export function scrapeSourceOf(
  families: () => Iterable<FamilySnapshot> | Promise<Iterable<FamilySnapshot>>,
  otel: () => Promise<ResourceMetrics | undefined>,
  withOtelInfo: boolean,
): ScrapeSource {
  return async (out, take) => {
    await writeExposition(await families(), out, take);
    const collected = await otel();
    if (collected !== undefined) writeOtelMetrics(out, collected, withOtelInfo);
  };
}
