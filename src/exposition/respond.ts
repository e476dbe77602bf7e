import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTENT_TYPE } from './format.js';
import { negotiateFormat } from './negotiation.js';
import { OPENMETRICS_CONTENT_TYPE } from './openmetrics.js';
import { ScrapeBody, type BodyBytes } from './scrape-body.js';
import { writesEveryFormat, type ScrapeSource } from './scrape-source.js';

/** Whether the scraper accepts gzip (Prometheus sends `Accept-Encoding: gzip`). */
function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/i.test(header) && !/\bgzip\s*;\s*q=0(\.0*)?\b/i.test(header);
}

/**
 * Writes one scrape as the response, in the format the scraper's `Accept` prefers (OpenMetrics or
 * the Prometheus text), streamed as it is written (see ScrapeBody), so that no single step of
 * even a 24k-series scrape blocks the app's event loop for long. A failing scrape is a contained
 * failure that ends the response, never a crash.
 */
export function respondWithMetrics(source: ScrapeSource, req: IncomingMessage, res: ServerResponse, onBody?: BodyBytes): void {
  const format = writesEveryFormat(source) ? negotiateFormat(req.headers.accept) : 'text';
  const contentType = format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : CONTENT_TYPE;
  const body = new ScrapeBody(res, contentType, acceptsGzip(req), req.method === 'HEAD', onBody);
  const out: string[] = [];
  // Started from a promise, so a source that throws at once fails like one that rejects.
  Promise.resolve()
    .then(() => source(out, body.take, format))
    .then(() => body.end(out))
    .catch((err: unknown) => body.fail(err));
}
