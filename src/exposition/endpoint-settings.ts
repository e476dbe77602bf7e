import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from '../log.js';
import { Invalid, type Env, type Parser } from '../settings.js';
import { accessOf, OPEN, parseSecret, type Access } from './auth.js';

/** The dedicated server's transport: plain HTTP, HTTPS from two PEM files, or no server at all. */
export type Transport =
  | { readonly kind: 'http' }
  | { readonly kind: 'https'; readonly cert: string; readonly key: string }
  | { readonly kind: 'none' };

/** How the metrics endpoints (the dedicated server and the in-app handlers) are protected. */
export interface EndpointSettings {
  readonly access: Access;
  readonly transport: Transport;
}

/** With none of its variables set. */
export const ENDPOINT_DEFAULTS: EndpointSettings = Object.freeze({ access: OPEN, transport: Object.freeze({ kind: 'http' as const }) });

const AUTH_VARIABLES = { token: 'PROMETHEUS_METRICS_AUTH_TOKEN', basic: 'PROMETHEUS_METRICS_AUTH_BASIC' } as const;
const TLS_CERT = 'PROMETHEUS_METRICS_TLS_CERT';
const TLS_KEY = 'PROMETHEUS_METRICS_TLS_KEY';

/**
 * These settings do not fall back to a default as the others do: a set variable means protection
 * was asked for, so a bad one (even an empty one, as a missing secret interpolates) must not leave
 * the endpoint open. Values are secrets and are never printed; file paths are.
 */
export function readEndpointSettings(env: Env, log: Logger): EndpointSettings {
  return {
    access: accessOf(
      (key, parse) => readSecret(env, AUTH_VARIABLES[key], parse),
      (problem) => log(`${problem.message}; the metrics endpoints refuse every request`),
    ),
    transport: readTransport(env, log),
  };
}

/** The secret in `name`, or in the file `name_FILE` names (a mounted secret; its trailing line break is not part of it). */
function readSecret(env: Env, name: string, parse: Parser<string>): string | undefined {
  const fileName = `${name}_FILE`;
  const raw = env[name];
  const file = env[fileName];
  if (raw !== undefined && file !== undefined) throw new Invalid(`${name} and ${fileName} are both set`);
  if (raw !== undefined) return parseSecret(parse, raw, (reason) => `invalid ${name} (${reason})`);
  if (file === undefined) return undefined;
  const setting = `invalid ${fileName}="${file}"`;
  if (file === '') throw new Invalid(`${setting} (empty path)`);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Invalid(`${setting} (cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseSecret(parse, content.replace(/[\r\n]+$/, ''), (reason) => `${setting} (content: ${reason})`);
}

function readTransport(env: Env, log: Logger): Transport {
  const cert = env[TLS_CERT];
  const key = env[TLS_KEY];
  if (cert === undefined && key === undefined) return ENDPOINT_DEFAULTS.transport;
  const problem =
    cert === undefined ? `${TLS_KEY} is set without ${TLS_CERT}`
    : key === undefined ? `${TLS_CERT} is set without ${TLS_KEY}`
    : cert.trim() === '' ? `invalid ${TLS_CERT}="${cert}" (empty path)`
    : key.trim() === '' ? `invalid ${TLS_KEY}="${key}" (empty path)`
    : undefined;
  if (problem !== undefined) {
    log(`${problem}; serving no dedicated /metrics endpoint`);
    return { kind: 'none' };
  }
  // Absolute: the app may change its working directory before a reload reads them again.
  return { kind: 'https', cert: resolve(cert!.trim()), key: resolve(key!.trim()) };
}
