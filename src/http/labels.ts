import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestHeaders } from './request-state.js';

/** The literal views of metrics.md section 2. */
export const UNNAMED_VIEW = '<unnamed view>';
export const METRICS_VIEW = 'prometheus-django-metrics';
export const INVALID_METHOD = '<invalid method>';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT', 'PATCH']);

/** Django's method sanitising: the nine standard methods pass, everything else is one literal. */
export function sanitizeMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : INVALID_METHOD;
}

/** What the families need of a request's headers and connection, read once at dispatch. */
export function requestHeaders(req: IncomingMessage): RequestHeaders {
  const { headers } = req;
  return {
    ajax: headers['x-requested-with'] === 'XMLHttpRequest',
    bodySize: decimalSize(headers['content-length']),
    forwardedHttps: firstIsHttps(headers['x-forwarded-proto']),
    encrypted: (req.socket as TLSSocket | null)?.encrypted === true,
  };
}

/** `https` for TLS connections, or, when a proxy is trusted, for a first `X-Forwarded-Proto` of https. */
export function transportOf(headers: RequestHeaders, trustProxy: boolean): 'http' | 'https' {
  return headers.encrypted || (trustProxy && headers.forwardedHttps) ? 'https' : 'http';
}

function firstIsHttps(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0];
  return first !== undefined && first.trim().toLowerCase() === 'https';
}

/** A `Content-Length` as a decimal integer; absent, empty or malformed counts 0. */
function decimalSize(header: string | undefined): number {
  if (header === undefined) return 0;
  const n = decimalOf(header);
  return Number.isNaN(n) ? 0 : n;
}

/**
 * A header value that is a decimal integer (surrounding whitespace allowed), or NaN. Plain digits,
 * what frameworks write, are checked without a pattern match.
 */
export function decimalOf(text: string): number {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i > 0 && i === text.length) return Number(text);
  return /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
}

/** The `charset` parameter of a Content-Type, as written and unquoted; Django's default otherwise. */
export function charsetOf(contentType: unknown): string {
  if (typeof contentType !== 'string') return 'utf-8';
  // Most responses of an app share a few Content-Type strings: remember the last one parsed.
  if (contentType === lastContentType) return lastCharset;
  const m = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType);
  lastContentType = contentType;
  lastCharset = m && m[2] ? m[2] : 'utf-8';
  return lastCharset;
}
let lastContentType = '';
let lastCharset = 'utf-8';

/** `err.constructor.name`, with the fallbacks of metrics.md section 2 (error type). */
export function errorTypeOf(err: unknown): string {
  if (err === null || err === undefined) return 'Error';
  const ctor = (Object(err) as { constructor?: { name?: unknown } }).constructor;
  const name = ctor?.name;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}
