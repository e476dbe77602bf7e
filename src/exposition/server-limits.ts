import type { ServerResponse } from 'node:http';

/**
 * What a scraper may hold of the dedicated metrics server: a scraper that connects and stalls,
 * or never reads its response, is cut off, and scrapes beyond the bound are refused at once, so
 * that no scraper slows the app or grows its memory.
 */
export interface ServerLimits {
  /** A connection must have sent its request headers within this many ms (else 408 and closed). */
  headersMs: number;
  /** An idle keep-alive connection is closed after this many ms. */
  keepAliveMs: number;
  /** A response not finished this many ms after its request is destroyed, however slowly it is read. */
  responseMs: number;
  /** Scrapes in progress at once; one more is answered 503 without being written. */
  concurrentScrapes: number;
}

export const SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  // Scrapers send a whole GET at once; 10 s covers any network a scrape can work over.
  headersMs: 10_000,
  // Node's own default: shorter than any scrape interval, so a connection lives for one scrape.
  keepAliveMs: 5_000,
  // Prometheus gives up on a scrape at its scrape_timeout (default 10 s, at most the scrape
  // interval, rarely above 60 s): a response still unfinished after that has no reader left.
  responseMs: 60_000,
  // Two Prometheus replicas and a person with curl, with room to spare; each stalled scrape holds
  // at most a chunk and the socket's buffers, so four bound the memory any scraper can pin.
  concurrentScrapes: 4,
});

/** Node's options for the limits it enforces itself. */
export function serverOptions(limits: ServerLimits): { headersTimeout: number; requestTimeout: number; keepAliveTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout: limits.headersMs,
    // A scrape is a GET: its request is complete with its headers.
    requestTimeout: limits.headersMs,
    keepAliveTimeout: limits.keepAliveMs,
    // How often Node looks for expired requests (30 s by default, which would let a silent
    // connection live several times the headers timeout).
    connectionsCheckingInterval: Math.min(1_000, Math.max(1, Math.floor(limits.headersMs / 4))),
  };
}

/**
 * The scrape slots of one server: `admit(res)` takes a slot until `res` closes (finished, cut off
 * or destroyed), or answers `false` when all are taken; a taken slot is also freed by the
 * response deadline.
 */
export function scrapeSlots(limits: ServerLimits): (res: ServerResponse) => boolean {
  let inProgress = 0;
  return (res) => {
    if (inProgress >= limits.concurrentScrapes) return false;
    inProgress++;
    const deadline = setTimeout(() => res.destroy(), limits.responseMs).unref();
    res.once('close', () => {
      inProgress--;
      clearTimeout(deadline);
    });
    return true;
  };
}
