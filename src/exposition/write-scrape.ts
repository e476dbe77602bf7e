import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { FamilySnapshot } from '../store/snapshot.js';
import type { ExpositionFormat } from './negotiation.js';
import { OPENMETRICS } from './openmetrics.js';
import { PROMETHEUS_TEXT, writeExposition } from './prometheus-text.js';
import type { ScrapeSource } from './scrape-source.js';

const FLAVOURS = { text: PROMETHEUS_TEXT, openmetrics: OPENMETRICS } as const;

/**
 * The writer of the OTel SDK's data, loaded with the first scrape that has any: it loads the SDK,
 * which the preload keeps out of the app's startup.
 */
const otelWriter = () => import('./otel-metrics.js');

/**
 * What a scrape writes: the collected families (`families`: this process's, or the multi-process
 * merge), then what the OTel SDK collected (the app's own instruments), in the format asked for.
 * The SDK's part is collected and written first, so that its target metadata can lead where the
 * format wants it first.
 */
export function scrapeSourceOf(
  families: () => Iterable<FamilySnapshot> | Promise<Iterable<FamilySnapshot>>,
  otel: () => Promise<ResourceMetrics | undefined>,
  withOtelInfo: boolean,
): ScrapeSource {
  return async (out, take, format: ExpositionFormat = 'text') => {
    const flavour = FLAVOURS[format];
    const collected = await otel();
    const target: string[] = [];
    const instruments: string[] = [];
    if (collected !== undefined) {
      const { writeOtelMetrics, writeTargetInfo } = await otelWriter();
      if (withOtelInfo) writeTargetInfo(target, collected, flavour);
      writeOtelMetrics(instruments, collected, withOtelInfo, flavour);
    }
    if (flavour.targetFirst) out.push(...target);
    await writeExposition(await families(), out, take, flavour);
    if (!flavour.targetFirst) out.push(...target);
    for (const part of instruments) out.push(part);
    out.push(flavour.end);
  };
}
