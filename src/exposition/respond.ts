import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { stateOf } from '../http/request-state.js';
import { logLine } from '../log.js';
import { CONTENT_TYPE } from './format.js';

const gzipAsync = promisify(gzip);

/** Whether the scraper accepts gzip (Prometheus sends `Accept-Encoding: gzip`). */
function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  return typeof header === 'string' && /\bgzip\b/i.test(header) && !/\bgzip\s*;\s*q=0(\.0*)?\b/i.test(header);
}

/**
 * Writes one scrape as the response, gzipped on the thread pool when the scraper accepts it.
 * A failing scrape is a 500 with a one-line log, never a crash.
 */
export function respondWithMetrics(scrape: () => Promise<string>, req: IncomingMessage, res: ServerResponse): void {
  const compress = acceptsGzip(req);
  scrape()
    .then(async (text) => {
      const body = compress ? await gzipAsync(text) : Buffer.from(text);
      // The response-body family records the uncompressed size (metrics.md section 2), not gzip's.
      const state = stateOf(res);
      if (state !== undefined && state.contentLength < 0) state.contentLength = Buffer.byteLength(text);
      const headers: Record<string, string | number> = { 'Content-Type': CONTENT_TYPE, 'Content-Length': body.length, Vary: 'Accept-Encoding' };
      if (compress) headers['Content-Encoding'] = 'gzip';
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    })
    .catch((err: unknown) => {
      logLine(`scrape failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('metrics collection failed\n');
    });
}
