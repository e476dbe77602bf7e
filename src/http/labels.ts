import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The literal views of metrics.md section 2. */
export const UNNAMED_VIEW = '<unnamed view>';
export const METRICS_VIEW = 'prometheus-django-metrics';
export const INVALID_METHOD = '<invalid method>';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT', 'PATCH']);

/** Django's method sanitising: the nine standard methods pass, everything else is one literal. */
export function sanitizeMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : INVALID_METHOD;
}

/** `https` for TLS sockets, or, when a proxy is trusted, for a first `X-Forwarded-Proto` of https. */
export function transportOf(req: IncomingMessage, trustProxy: boolean): 'http' | 'https' {
  if ((req.socket as TLSSocket | null)?.encrypted) return 'https';
  if (trustProxy) {
    const header = req.headers['x-forwarded-proto'];
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0];
    if (first !== undefined && first.trim().toLowerCase() === 'https') return 'https';
  }
  return 'http';
}

/** The request's `Content-Length` as a decimal integer; absent, empty or malformed counts 0. */
export function requestBodySize(req: IncomingMessage): number {
  const header = req.headers['content-length'];
  if (header === undefined) return 0;
  return /^\s*\d+\s*$/.test(header) ? Number(header) : 0;
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
