import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { safe } from '../contain.js';
import { decimalOf } from './labels.js';
import { stateOf } from './request-state.js';
import type { RequestState } from './request-state.js';

/**
 * Learns what the response-size and streaming families need from the response itself
 * (metrics.md section 2): the first Content-Length the app set, the bytes written when none
 * was set, and whether the body was streamed (piped, or written chunked). One prototype patch
 * per method for the whole process; each costs one property read on responses we do not track.
 */
const kPatched = Symbol.for('otel-django-metrics.response-tracker');

type Chunk = string | Uint8Array | undefined | null | ((...a: unknown[]) => void);

export function installResponseTracker(): void {
  const proto = ServerResponse.prototype as ServerResponse & { [kPatched]?: true };
  if (proto[kPatched]) return;
  proto[kPatched] = true;

  const { setHeader, writeHead, write, end } = proto;

  proto.setHeader = function (this: ServerResponse, name: string, value: number | string | readonly string[]) {
    // The name test first: most headers are not Content-Length, and it needs no state lookup.
    if (typeof name === 'string' && name.length === 14) noteSetHeader(this, name, value);
    return setHeader.call(this, name, value);
  } as typeof proto.setHeader;

  // `apply(this, arguments)` rather than rest parameters: V8 passes the arguments through without
  // allocating an array, and these run for every response.
  proto.writeHead = function (this: ServerResponse, _status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown) {
    // Only headers passed here can carry a Content-Length (Node's own implicit call passes none).
    const headers = typeof reasonOrHeaders === 'object' ? reasonOrHeaders : maybeHeaders;
    if (headers !== null && typeof headers === 'object') noteWriteHead(this, headers);
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
  } as typeof proto.writeHead;

  proto.write = function (this: ServerResponse, chunk: Chunk, encoding?: unknown) {
    noteWrite(this, chunk, encoding);
    return (write as (...a: unknown[]) => boolean).apply(this, arguments as unknown as unknown[]);
  } as typeof proto.write;

  proto.end = function (this: ServerResponse, chunk?: Chunk, encoding?: unknown) {
    noteEnd(this, chunk, encoding);
    return (end as (...a: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
  } as typeof proto.end;

  // `pipe` into a response (sendFile, koa stream bodies, pipeline) makes it a streaming response.
  const pipe = Readable.prototype.pipe;
  Readable.prototype.pipe = function <T extends NodeJS.WritableStream>(this: Readable, destination: T, options?: { end?: boolean }): T {
    if (destination instanceof ServerResponse) notePipe(destination);
    return pipe.call(this, destination, options) as T;
  };
}

/*
 * What each wrapper learns, inside the containment primitive: the app's call runs after it, as
 * without the package, whatever happens here.
 */

const noteSetHeader = safe('response setHeader', (res: ServerResponse, name: string, value: unknown) => {
  if (!isContentLength(name)) return;
  const state = stateOf(res);
  if (state !== undefined && state.contentLength < 0) noteContentLength(state, value);
});

const noteWriteHead = safe('response writeHead', (res: ServerResponse, headers: object) => {
  const state = stateOf(res);
  if (state !== undefined && state.contentLength < 0) noteHeaders(state, headers as OutgoingHttpHeaders | OutgoingHttpHeader[]);
});

const noteWrite = safe('response write', (res: ServerResponse, chunk: Chunk, encoding: unknown) => {
  const state = stateOf(res);
  if (state === undefined || state.done) return;
  // A write with no Content-Length set means a chunked (streaming) response.
  if (state.contentLength >= 0) return; // the body size is known: the bytes are not needed
  if (!res.hasHeader('content-length')) state.streaming = true;
  state.bytes += byteLength(chunk, encoding);
});

const noteEnd = safe('response end', (res: ServerResponse, chunk: Chunk, encoding: unknown) => {
  const state = stateOf(res);
  if (state !== undefined && !state.done && state.contentLength < 0) state.bytes += byteLength(chunk, encoding);
});

const notePipe = safe('readable pipe into a response', (res: ServerResponse) => {
  const state = stateOf(res);
  if (state !== undefined) state.streaming = true;
});

/**
 * A header name is Content-Length, in any case. The two spellings frameworks use are compared as
 * they are, and only a name of the right length is lowercased: lowercasing allocates a string.
 */
function isContentLength(name: string): boolean {
  return name.length === 14 && (name === 'content-length' || name === 'Content-Length' || name.toLowerCase() === 'content-length');
}

function noteContentLength(state: RequestState, value: unknown): void {
  const v = Array.isArray(value) ? value[0] : value;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? decimalOf(v) : NaN;
  if (Number.isFinite(n) && n >= 0) state.contentLength = n;
}

function noteHeaders(state: RequestState, headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): void {
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value, ...] form.
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (isContentLength(String(headers[i]))) return noteContentLength(state, headers[i + 1]);
    }
    return;
  }
  for (const name of Object.keys(headers)) {
    if (isContentLength(name)) return noteContentLength(state, headers[name]);
  }
}

function byteLength(chunk: Chunk, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
