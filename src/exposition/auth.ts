// Who may read a metrics endpoint, and the check each request passes before anything is served.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Invalid, type Parser } from '../settings.js';

/** The credentials an endpoint accepts, each as the SHA-256 digest of what a scraper must present. */
export interface Credentials {
  readonly kind: 'credentials';
  /** `Authorization: Bearer <token>`. */
  readonly bearer: Buffer | undefined;
  /** `Authorization: Basic base64(user:password)`. */
  readonly basic: Buffer | undefined;
}

/**
 * Who may read an endpoint: anyone, holders of a credential, or nobody: invalid protection
 * settings refuse every request rather than serve the metrics openly.
 */
export type Access = { readonly kind: 'open' } | { readonly kind: 'refuse' } | Credentials;

export const OPEN: Access = Object.freeze({ kind: 'open' });
export const REFUSE: Access = Object.freeze({ kind: 'refuse' });

/** The two credential settings: a bearer token, and `user:password` for Basic. */
export interface Secrets {
  token?: string;
  basic?: string;
}

/** A bearer token: what an HTTP client can send after `Bearer ` unchanged (visible ASCII, no spaces). */
export const bearerToken: Parser<string> = (raw) => {
  if (raw === '') throw new Invalid('empty');
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new Invalid('only visible ASCII characters, no spaces');
  return raw;
};

/** `user:password` as Basic authentication carries it: the user ends at the first colon (RFC 7617). */
export const basicCredentials: Parser<string> = (raw) => {
  if (raw === '') throw new Invalid('empty');
  const colon = raw.indexOf(':');
  if (colon < 0) throw new Invalid('expected user:password');
  if (colon === 0) throw new Invalid('empty user');
  if (colon === raw.length - 1) throw new Invalid('empty password');
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Invalid('control character');
  return raw;
};

const PARSERS: { readonly [K in keyof Secrets]-?: Parser<string> } = { token: bearerToken, basic: basicCredentials };

/** `parse(raw)`, a failure reworded by `reword` from its reason alone: the value is a secret, never printed. */
export function parseSecret(parse: Parser<string>, raw: string, reword: (reason: string) => string): string {
  try {
    return parse(raw);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    throw new Invalid(reword(e.message));
  }
}

// A digest has the same length whatever was presented, so timingSafeEqual can compare it and
// neither the comparison nor a length check before it tells a prober how long the secret is.
function digest(bytes: string | Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/**
 * The access the two credential settings give: open when neither is set, the credentials set, or
 * refuse when either is invalid. `read` gives a setting's value parsed with `parse` (`undefined`:
 * unset) or throws `Invalid`; `report` gets each failure.
 */
export function accessOf(read: (key: keyof Secrets, parse: Parser<string>) => string | undefined, report: (problem: Invalid) => void): Access {
  const secrets: Secrets = {};
  let valid = true;
  for (const key of ['token', 'basic'] as const) {
    try {
      const value = read(key, PARSERS[key]);
      if (value !== undefined) secrets[key] = value;
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      report(e);
      valid = false;
    }
  }
  if (!valid) return REFUSE;
  if (secrets.token === undefined && secrets.basic === undefined) return OPEN;
  return Object.freeze({
    kind: 'credentials',
    bearer: secrets.token === undefined ? undefined : digest(secrets.token),
    basic: secrets.basic === undefined ? undefined : digest(secrets.basic),
  });
}

/** RFC 7235's token68, the form of both schemes' credentials. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const AUTHORIZATION = /^([A-Za-z]+) +(\S+) *$/;

/** Whether an `Authorization` header carries one of the accepted credentials. */
function presents(credentials: Credentials, header: string | undefined): boolean {
  const m = header === undefined ? null : AUTHORIZATION.exec(header);
  if (m === null) return false;
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer' && credentials.bearer !== undefined) return timingSafeEqual(digest(value), credentials.bearer);
  if (scheme === 'basic' && credentials.basic !== undefined && TOKEN68.test(value)) {
    return timingSafeEqual(digest(Buffer.from(value, 'base64')), credentials.basic);
  }
  return false;
}

const TEXT = 'text/plain; charset=utf-8';

function challenges(credentials: Credentials): string[] {
  const offered: string[] = [];
  if (credentials.bearer !== undefined) offered.push('Bearer realm="metrics"');
  if (credentials.basic !== undefined) offered.push('Basic realm="metrics", charset="UTF-8"');
  return offered;
}

/**
 * Whether `req` may read the endpoint. If not, answers it without any detail (401 with the schemes
 * it accepts, or 403 when nothing is accepted) and returns false.
 */
export function admitted(access: Access, req: IncomingMessage, res: ServerResponse): boolean {
  if (access.kind === 'open') return true;
  if (access.kind === 'credentials') {
    if (presents(access, req.headers.authorization)) return true;
    res.writeHead(401, { 'WWW-Authenticate': challenges(access), 'Content-Type': TEXT }).end('Unauthorized\n');
    return false;
  }
  res.writeHead(403, { 'Content-Type': TEXT }).end('Forbidden\n');
  return false;
}
