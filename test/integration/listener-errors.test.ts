import { beforeAll, describe, expect, test } from 'vitest';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { containedFailures, exchange, spawnBare, spawnFaulty, type Observed } from '../support/faults.js';
import { REGISTER, ROOT, spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/listener-errors-app.mjs';
const ERROR_FAULT = `${ROOT}test/fixtures/listener-error-fault.mjs`;
const steps = (paths: string[]) => paths.map((path) => ({ path, headers: { connection: 'close' } }));
const STEPS = steps(['/ok', '/throw', '/reject', '/reject-string', '/handled', '/handled-late', '/ok', '/events']);

interface Run {
  seen: Observed[];
  stderr: string;
  exposition?: Exposition;
}

/** Sends the steps and stops the app; an app that stops answering is stopped, its pending requests then read status 0. */
async function run(app: RunningApp, scrape: boolean, script = STEPS): Promise<Run> {
  const deadline = setTimeout(() => void app.stop(), 10_000);
  try {
    const seen = await exchange(app, script);
    return { seen, stderr: app.stderr(), exposition: scrape ? await app.scrape().catch(() => undefined) : undefined };
  } finally {
    clearTimeout(deadline);
    await app.stop();
  }
}

const sized = (body: string, status = 200): Observed => ({ status, headers: { connection: 'close', 'content-length': String(body.length) }, body });
const chunked = (status: number, body: string): Observed => ({ status, headers: { connection: 'close', 'transfer-encoding': 'chunked' }, body });

/** What the app gets without the preload: every run with it must be identical. */
const EXPECTED: Observed[] = [
  sized('ok'),
  chunked(500, 'boom'),
  chunked(500, 'boom'),
  chunked(500, 'boom'),
  chunked(503, 'handled'),
  chunked(502, 'handled late'),
  sized('ok'),
  sized(
    JSON.stringify([
      ['uncaughtException', 'TypeError: sync failure', 'uncaughtException'],
      ['unhandledRejection', 'RangeError: async failure', 'the returned promise'],
      ['unhandledRejection', 'a plain string', 'the returned promise'],
      ['unhandledRejection', 'URIError: handled late', 'the returned promise'],
      ['rejectionHandled', 'the returned promise'],
    ]),
  ),
];

describe('a plain node:http listener that throws or rejects', () => {
  let bare: Run;
  let preloaded: Run;
  let recordersFailing: Run;
  let errorFailing: Run;

  beforeAll(async () => {
    bare = await run(await spawnBare(APP), false);
    preloaded = await run(await spawnApp(APP), true);
    recordersFailing = await run(await spawnFaulty(APP, ['recorders']), false);
    errorFailing = await run(await spawnApp(APP, { nodeArgs: ['--import', REGISTER, '--import', ERROR_FAULT] }), true);
  }, 60_000);

  test('without the preload: a throw is an uncaughtException, a rejection an unhandledRejection of the returned promise', () => {
    expect(bare.seen).toEqual(EXPECTED);
  });

  test('with the preload: the same responses, the same events with the same reasons and promises', () => {
    expect(preloaded.seen).toEqual(bare.seen);
    expect(containedFailures(preloaded.stderr)).toEqual([]);
  });

  test('with the preload: the throw and the unhandled rejections are counted; promises the app handles are not', () => {
    expect(vectorOf(preloaded.exposition!, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"RangeError"} 1',
      '{"type":"String"} 1',
      '{"type":"TypeError"} 1',
      '{"type":"URIError"} 1',
    ]);
  });

  test('with every recorder failing (ODM_FAULTS=recorders): the same as without the preload', () => {
    expect(recordersFailing.seen).toEqual(bare.seen);
  });

  test("with the recorder's error() failing: the same as without the preload, one ODM001 line per listener hook", () => {
    expect(errorFailing.seen).toEqual(bare.seen);
    expect(containedFailures(errorFailing.stderr)).toEqual([
      expect.stringMatching(/ ODM001 request listener throw failed; .*: Error: injected fault: error$/),
      expect.stringMatching(/ ODM001 request listener rejection failed; .*: Error: injected fault: error$/),
    ]);
    expect(vectorOf(errorFailing.exposition!, 'django_http_exceptions_total_by_type_total')).toEqual([]);
  });
});

describe("with EventEmitter's captureRejections, the server answers a rejection itself", () => {
  const CAPTURE = { env: { LISTENER_CAPTURE_REJECTIONS: '1' } };
  const SCRIPT = steps(['/ok', '/reject', '/reject-string', '/events']);
  let bare: Run;
  let preloaded: Run;

  beforeAll(async () => {
    bare = await run(await spawnBare(APP, CAPTURE), false, SCRIPT);
    preloaded = await run(await spawnApp(APP, CAPTURE), true, SCRIPT);
  }, 30_000);

  test('without the preload: Node answers 500, no unhandledRejection', () => {
    expect(bare.seen).toEqual([sized('ok'), sized('Internal Server Error', 500), sized('Internal Server Error', 500), sized('[]')]);
  });

  test('with the preload: the same, and the rejections are counted', () => {
    expect(preloaded.seen).toEqual(bare.seen);
    expect(vectorOf(preloaded.exposition!, 'django_http_exceptions_total_by_type_total')).toEqual(['{"type":"RangeError"} 1', '{"type":"String"} 1']);
    expect(containedFailures(preloaded.stderr)).toEqual([]);
  });
});

describe('another wrapper of the server emit loaded first (an app tracing its requests)', () => {
  const PATCH = { nodeArgs: ['--import', `${ROOT}test/fixtures/emit-patch-first.mjs`] };
  let bare: Run;
  let preloaded: Run;

  beforeAll(async () => {
    bare = await run(await spawnBare(APP, PATCH), false);
    preloaded = await run(await spawnApp(APP, { nodeArgs: [...PATCH.nodeArgs, '--import', REGISTER] }), true);
  }, 30_000);

  test('the wrapper still sees every request: the same responses as without the preload', () => {
    expect(bare.seen.slice(0, -1).every((r) => r.headers['x-emit-patch'] === 'seen')).toBe(true);
    expect(preloaded.seen).toEqual(bare.seen);
    expect(containedFailures(preloaded.stderr)).toEqual([]);
  });

  test('the throw is still counted; the rejections of promises the package no longer sees returned are not', () => {
    expect(vectorOf(preloaded.exposition!, 'django_http_exceptions_total_by_type_total')).toEqual(['{"type":"TypeError"} 1']);
  });
});
