import type { IncomingMessage, ServerResponse } from 'node:http';
import { logLine } from '../log.js';
import { CONTENT_TYPE } from './format.js';

/** Writes one scrape as the response; a failing scrape is a 500 with a one-line log, never a crash. */
export function respondWithMetrics(scrape: () => Promise<string>, req: IncomingMessage, res: ServerResponse): void {
  scrape().then(
    (body) => {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: unknown) => {
      logLine(`scrape failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('metrics collection failed\n');
    },
  );
}
