import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { OPEN, REFUSE, type Access } from '../../src/exposition/auth.js';
import { ENDPOINT_DEFAULTS, readEndpointSettings, type EndpointSettings } from '../../src/exposition/endpoint-settings.js';
import { handlerAccess, type MetricsHandlerOptions } from '../../src/exposition/handler.js';

const PREFIX = 'PROMETHEUS_METRICS_';
const REFUSING = 'the metrics endpoints refuse every request';
const SERVERLESS = 'serving no dedicated /metrics endpoint';

/** readEndpointSettings with a captured logger: the settings and every line they printed. */
function read(env: Record<string, string>): { settings: EndpointSettings; lines: string[] } {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  return { settings: readEndpointSettings(env, log), lines };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const credentials = (token: string | undefined, basic: string | undefined): Access => ({
  kind: 'credentials',
  bearer: token === undefined ? undefined : sha256(token),
  basic: basic === undefined ? undefined : sha256(basic),
});

const dir = mkdtempSync(join(tmpdir(), 'odm-endpoint-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A secret file with `content`; its path. */
function secretFile(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

test('with none of the variables set: open, over plain HTTP, and nothing printed', () => {
  expect(read({})).toStrictEqual({ settings: { access: OPEN, transport: { kind: 'http' } }, lines: [] });
  expect(ENDPOINT_DEFAULTS).toStrictEqual({ access: OPEN, transport: { kind: 'http' } });
});

describe('credentials', () => {
  test.each<[string, Record<string, string>, Access]>([
    ['a bearer token', { [`${PREFIX}AUTH_TOKEN`]: 's3cr3t-T0ken/+=' }, credentials('s3cr3t-T0ken/+=', undefined)],
    ['user:password', { [`${PREFIX}AUTH_BASIC`]: 'prometheus:pa ss' }, credentials(undefined, 'prometheus:pa ss')],
    ['a password with colons and UTF-8', { [`${PREFIX}AUTH_BASIC`]: 'prom:a:b:ç' }, credentials(undefined, 'prom:a:b:ç')],
    ['both: either is accepted', { [`${PREFIX}AUTH_TOKEN`]: 't', [`${PREFIX}AUTH_BASIC`]: 'u:p' }, credentials('t', 'u:p')],
    ['a token file: its trailing line break is not part of the token', { [`${PREFIX}AUTH_TOKEN_FILE`]: secretFile('token', 'from-file\n') }, credentials('from-file', undefined)],
    ['a CRLF token file', { [`${PREFIX}AUTH_TOKEN_FILE`]: secretFile('token-crlf', 'crlf\r\n') }, credentials('crlf', undefined)],
    ['a basic file without a line break', { [`${PREFIX}AUTH_BASIC_FILE`]: secretFile('basic', 'u:p w') }, credentials(undefined, 'u:p w')],
  ])('%s', (_what, env, access) => {
    expect(read(env)).toStrictEqual({ settings: { access, transport: { kind: 'http' } }, lines: [] });
  });
});

describe('every invalid credential setting: exactly its line, without the secret, and every request refused', () => {
  const missing = join(dir, 'missing');
  test.each<[string, Record<string, string>, string]>([
    ['an empty token (a missing secret interpolated)', { [`${PREFIX}AUTH_TOKEN`]: '' }, `invalid ${PREFIX}AUTH_TOKEN (empty)`],
    ['a token with a space', { [`${PREFIX}AUTH_TOKEN`]: 'two words' }, `invalid ${PREFIX}AUTH_TOKEN (only visible ASCII characters, no spaces)`],
    ['a token with a trailing space', { [`${PREFIX}AUTH_TOKEN`]: 'secret ' }, `invalid ${PREFIX}AUTH_TOKEN (only visible ASCII characters, no spaces)`],
    ['a non-ASCII token', { [`${PREFIX}AUTH_TOKEN`]: 'sécret' }, `invalid ${PREFIX}AUTH_TOKEN (only visible ASCII characters, no spaces)`],
    ['empty basic', { [`${PREFIX}AUTH_BASIC`]: '' }, `invalid ${PREFIX}AUTH_BASIC (empty)`],
    ['basic without a colon', { [`${PREFIX}AUTH_BASIC`]: 'justapassword' }, `invalid ${PREFIX}AUTH_BASIC (expected user:password)`],
    ['basic without a user', { [`${PREFIX}AUTH_BASIC`]: ':secret' }, `invalid ${PREFIX}AUTH_BASIC (empty user)`],
    ['basic without a password', { [`${PREFIX}AUTH_BASIC`]: 'user:' }, `invalid ${PREFIX}AUTH_BASIC (empty password)`],
    ['basic with a control character', { [`${PREFIX}AUTH_BASIC`]: 'user:se\tcret' }, `invalid ${PREFIX}AUTH_BASIC (control character)`],
    ['a token and its file', { [`${PREFIX}AUTH_TOKEN`]: 'secret', [`${PREFIX}AUTH_TOKEN_FILE`]: secretFile('both', 'secret') }, `${PREFIX}AUTH_TOKEN and ${PREFIX}AUTH_TOKEN_FILE are both set`],
    ['basic and its file', { [`${PREFIX}AUTH_BASIC`]: 'u:p', [`${PREFIX}AUTH_BASIC_FILE`]: '' }, `${PREFIX}AUTH_BASIC and ${PREFIX}AUTH_BASIC_FILE are both set`],
    ['an empty file path', { [`${PREFIX}AUTH_TOKEN_FILE`]: '' }, `invalid ${PREFIX}AUTH_TOKEN_FILE="" (empty path)`],
    ['a missing file', { [`${PREFIX}AUTH_TOKEN_FILE`]: missing }, `invalid ${PREFIX}AUTH_TOKEN_FILE="${missing}" (cannot read: ENOENT)`],
    ['a directory', { [`${PREFIX}AUTH_BASIC_FILE`]: dir }, `invalid ${PREFIX}AUTH_BASIC_FILE="${dir}" (cannot read: EISDIR)`],
    ['an empty token file', { [`${PREFIX}AUTH_TOKEN_FILE`]: secretFile('empty', '\n') }, `invalid ${PREFIX}AUTH_TOKEN_FILE="${join(dir, 'empty')}" (content: empty)`],
    ['a token file of two lines', { [`${PREFIX}AUTH_TOKEN_FILE`]: secretFile('lines', 'one\ntwo\n') }, `invalid ${PREFIX}AUTH_TOKEN_FILE="${join(dir, 'lines')}" (content: only visible ASCII characters, no spaces)`],
    ['a basic file without a colon', { [`${PREFIX}AUTH_BASIC_FILE`]: secretFile('nocolon', 'password\n') }, `invalid ${PREFIX}AUTH_BASIC_FILE="${join(dir, 'nocolon')}" (content: expected user:password)`],
    ['a valid token beside an invalid basic', { [`${PREFIX}AUTH_TOKEN`]: 'fine', [`${PREFIX}AUTH_BASIC`]: 'nocolon' }, `invalid ${PREFIX}AUTH_BASIC (expected user:password)`],
  ])('%s', (_what, env, line) => {
    const { settings, lines } = read(env);
    expect(lines).toStrictEqual([`${line}; ${REFUSING}`]);
    expect(settings).toStrictEqual({ access: REFUSE, transport: { kind: 'http' } });
  });

  test('two invalid settings: one line each, still refused', () => {
    expect(read({ [`${PREFIX}AUTH_TOKEN`]: '', [`${PREFIX}AUTH_BASIC`]: 'x' })).toStrictEqual({
      settings: { access: REFUSE, transport: { kind: 'http' } },
      lines: [`invalid ${PREFIX}AUTH_TOKEN (empty); ${REFUSING}`, `invalid ${PREFIX}AUTH_BASIC (expected user:password); ${REFUSING}`],
    });
  });
});

describe('TLS files', () => {
  test('both set: HTTPS from their absolute paths (the app may change its working directory)', () => {
    expect(read({ [`${PREFIX}TLS_CERT`]: 'certs/cert.pem', [`${PREFIX}TLS_KEY`]: ' /etc/key.pem ' })).toStrictEqual({
      settings: { access: OPEN, transport: { kind: 'https', cert: resolve('certs/cert.pem'), key: '/etc/key.pem' } },
      lines: [],
    });
  });

  test.each<[string, Record<string, string>, string]>([
    ['a certificate without a key', { [`${PREFIX}TLS_CERT`]: '/c.pem' }, `${PREFIX}TLS_CERT is set without ${PREFIX}TLS_KEY`],
    ['a key without a certificate', { [`${PREFIX}TLS_KEY`]: '/k.pem' }, `${PREFIX}TLS_KEY is set without ${PREFIX}TLS_CERT`],
    ['an empty certificate path', { [`${PREFIX}TLS_CERT`]: '', [`${PREFIX}TLS_KEY`]: '/k.pem' }, `invalid ${PREFIX}TLS_CERT="" (empty path)`],
    ['an empty key path', { [`${PREFIX}TLS_CERT`]: '/c.pem', [`${PREFIX}TLS_KEY`]: ' ' }, `invalid ${PREFIX}TLS_KEY=" " (empty path)`],
  ])('%s: its line and no dedicated server (never plain HTTP)', (_what, env, line) => {
    expect(read(env)).toStrictEqual({ settings: { access: OPEN, transport: { kind: 'none' } }, lines: [`${line}; ${SERVERLESS}`] });
  });
});

describe('metricsHandler options', () => {
  const handlerRead = (options: unknown): { access: Access | undefined; lines: string[] } => {
    const lines: string[] = [];
    return { access: handlerAccess(options as MetricsHandlerOptions, (line) => lines.push(line)), lines };
  };

  test.each<[string, unknown]>([
    ['no options', undefined],
    ['null', null],
    ['an empty object', {}],
    ['other keys only', { path: '/metrics' }],
  ])('%s: the handler follows the settings', (_what, options) => {
    expect(handlerRead(options)).toStrictEqual({ access: undefined, lines: [] });
  });

  test.each<[string, MetricsHandlerOptions, Access]>([
    ['a token', { token: 'own-token' }, credentials('own-token', undefined)],
    ['basic', { basic: 'own:pass' }, credentials(undefined, 'own:pass')],
    ['both', { token: 'a', basic: 'b:c' }, credentials('a', 'b:c')],
  ])('%s: its own credentials, whatever the settings', (_what, options, access) => {
    expect(handlerRead(options)).toStrictEqual({ access, lines: [] });
  });

  test.each<[string, unknown, string]>([
    ['a token without a value (a secret the app failed to load)', { token: undefined }, 'token (no value)'],
    ['basic without a value, beside a valid token', { token: 'fine', basic: undefined }, 'basic (no value)'],
    ['a token that is not a string', { token: 42 }, 'token (not a string)'],
    ['an empty token', { token: '' }, 'token (empty)'],
    ['basic without a colon', { basic: 'password' }, 'basic (expected user:password)'],
  ])('%s: its line, and the handler refuses every request', (_what, options, line) => {
    expect(handlerRead(options)).toStrictEqual({ access: REFUSE, lines: [`invalid metricsHandler option ${line}; this handler refuses every request`] });
  });
});
