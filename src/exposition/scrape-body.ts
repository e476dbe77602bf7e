import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { hookFailed } from '../contain.js';
import { answerFailure, SCRAPE_SITE } from './contained-endpoint.js';
import type { TakeParts } from './scrape-source.js';

/**
 * Parts (about one exposition line each, ~100 bytes) joined into one written chunk: ~50 KB, so
 * no step of a scrape grows with its size (a 24k-series scrape is 15 MB).
 */
export const CHUNK_PARTS = 512;

/** Takes the uncompressed byte count of each part of a scrape's body as it is sent. */
export type BodyBytes = (bytes: number) => void;

/** The scraper went away mid-scrape: the scrape stops, and that is no failure to log. */
class ResponseClosed extends Error {}

/**
 * One scrape's response body, sent while the scrape is being written: the 200 headers go out
 * with the first chunk (a scrape that fails before it is still a clean 500), then chunks of
 * joined parts (chunked transfer encoding), gzipped on the thread pool when `gzip`, with the
 * response's backpressure holding the writer back.
 */
export class ScrapeBody {
  /** Where chunks go once the headers are out: the response, gzip in front of it, or nowhere (HEAD). */
  private sink: Writable | null | undefined;

  constructor(
    private readonly res: ServerResponse,
    /** The negotiated format's Content-Type. */
    private readonly contentType: string,
    private readonly gzip: boolean,
    private readonly head: boolean,
    /** Told the uncompressed size of what is sent (0 when the headers go out), for the app's own request metrics. */
    private readonly onBody?: BodyBytes,
  ) {}

  /** The scrape's TakeParts: sends `out` on once it holds a chunk's worth. */
  readonly take: TakeParts = (out) => {
    if (out.length < CHUNK_PARTS) return undefined;
    const text = out.join('');
    out.length = 0;
    return this.send(text);
  };

  /** Sends what is left in `out` (the OTel SDK's metrics arrive in one batch), then ends the response. */
  async end(out: string[]): Promise<void> {
    for (let i = 0; i < out.length; i += CHUNK_PARTS) await this.send(out.slice(i, i + CHUNK_PARTS).join(''));
    (this.open() ?? this.res).end();
  }

  /** A contained failure (reported once), then a 500 if nothing was sent yet, else the body cut short. */
  fail(err: unknown): void {
    if (err instanceof ResponseClosed) return;
    hookFailed(SCRAPE_SITE, err);
    answerFailure(this.res);
  }

  private send(text: string): Promise<void> | undefined {
    if (this.res.destroyed) throw new ResponseClosed();
    const sink = this.open();
    if (this.onBody !== undefined) this.onBody(Buffer.byteLength(text));
    if (sink === null || sink.write(text)) return undefined;
    return drained(sink);
  }

  private open(): Writable | null {
    if (this.sink !== undefined) return this.sink;
    const headers: OutgoingHttpHeaders = { 'Content-Type': this.contentType, Vary: 'Accept-Encoding, Accept' };
    if (this.gzip) headers['Content-Encoding'] = 'gzip';
    // An in-app scrape counts as one non-streaming response whose body size is the uncompressed
    // text, though it is sent chunked: its handler learns the size as the chunks go.
    this.onBody?.(0);
    this.res.writeHead(200, headers);
    this.sink = this.head ? null : this.gzip ? gzipInto(this.res) : this.res;
    return this.sink;
  }
}

/**
 * A gzip stream whose output goes to `res`, with res's backpressure. Not `pipe`: a response
 * piped into counts as streamed.
 */
function gzipInto(res: ServerResponse): Gzip {
  const gzip = createGzip();
  gzip.on('data', (chunk: Buffer) => {
    if (res.write(chunk)) return;
    gzip.pause();
    res.once('drain', () => gzip.resume());
  });
  gzip.once('end', () => res.end());
  gzip.once('error', (err) => {
    hookFailed(SCRAPE_SITE, err);
    res.destroy();
  });
  // Also after a normal end, when it is a no-op; before it, the waiting writer learns of it from gzip's close.
  res.once('close', () => gzip.destroy());
  return gzip;
}

/** Resolves when `stream` takes writes again; rejects if it closes first. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      stream.off('drain', onDrain);
      reject(new ResponseClosed());
    };
    stream.once('drain', onDrain).once('close', onClose);
  });
}
