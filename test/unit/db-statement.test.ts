import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { setContainmentLog } from '../../src/contain.js';
import { TrackedConnection } from '../../src/db/connection.js';
import type { DbRecorder } from '../../src/db/recorder.js';
import { setRuntime } from '../../src/db/runtime.js';
import { Statement, type Callback } from '../../src/db/statement.js';
import type { AnyMethod } from '../../src/db/own-methods.js';

/** A recorder that notes what it was asked to record (durations by type only), or whose every method throws. */
function recorder(calls: string[], broken: boolean): DbRecorder {
  const note =
    (name: string) =>
    (...args: unknown[]) => {
      if (broken) throw new Error(`broken ${name}`);
      calls.push([name, ...args.map((a) => (typeof a === 'number' && name === 'completed' ? typeof a : JSON.stringify(a)))].join(' '));
    };
  return { connectionAttempted: note('attempted'), connectionFailed: note('failed'), executed: note('executed'), completed: note('completed') } as unknown as DbRecorder;
}

let calls: string[];
let logged: string[];
let connection: TrackedConnection;

function useRecorder(broken: boolean): void {
  setRuntime({ recorder: recorder(calls, broken), rules: [], detailedPgErrors: false });
}

beforeEach(() => {
  calls = [];
  logged = [];
  setContainmentLog((line) => logged.push(line));
  connection = new TrackedConnection('postgresql', {}, {}, (err) => (err as Error).name);
});

afterEach(() => setRuntime(undefined));

/** The arguments `prepare` hands the driver: the callback wrapped to settle the statement. */
const wrapCallback = (statement: Statement, args: unknown[]) => ({ args: [args[0], statement.callback(args[1] as Callback)] });

describe('Statement: the driver call and its results pass outside the contained recording', () => {
  test('a driver throw reaches the caller as the same object, recorded as the statement error', () => {
    useRecorder(false);
    const thrown = new TypeError('bad query');
    const driver: AnyMethod = () => {
      throw thrown;
    };
    const statement = Statement.start(connection)!;
    expect(() => statement.run(driver, null, ['SELECT 1'], (_s, args) => ({ args }))).toThrow(thrown);
    expect(calls).toEqual(['executed ["default","postgresql"] 1 false', 'completed ["default","postgresql"] number "TypeError"']);
  });

  test('with a recorder that throws: the callback runs once, with the driver this and arguments, and the throw is reported once per site', () => {
    useRecorder(true);
    const seen: unknown[][] = [];
    const self = { driver: true };
    const driver: AnyMethod = function (this: unknown, _sql, cb) {
      (cb as Callback).call(this, null, 'rows', 'fields');
      (cb as Callback).call(this, null, 'rows again');
      return 'command';
    };
    for (let i = 0; i < 2; i++) {
      const statement = Statement.start(connection)!;
      const { result } = statement.run(driver, self, ['SELECT 1', function (this: unknown, ...args: unknown[]) { seen.push([this, ...args]); }], wrapCallback);
      expect(result).toBe('command');
    }
    // The driver called back twice per statement: the app sees both calls, no more, no fewer.
    expect(seen).toEqual([
      [self, null, 'rows', 'fields'],
      [self, null, 'rows again'],
      [self, null, 'rows', 'fields'],
      [self, null, 'rows again'],
    ]);
    expect(logged).toEqual([
      'ODM001 db statement count failed; the measurement is dropped and the app is unaffected: Error: broken executed',
      'ODM001 db statement end failed; the measurement is dropped and the app is unaffected: Error: broken completed',
    ]);
  });

  test('watch returns the driver promise itself; its rejection reaches the app unchanged', async () => {
    useRecorder(true);
    const reason = new Error('deadlock');
    const p = Promise.reject(reason);
    expect(Statement.start(connection)!.watch(p)).toBe(p);
    await expect(p).rejects.toBe(reason);
  });

  test('a failed prepare runs the driver with the original arguments, and the statement records nothing more', () => {
    useRecorder(false);
    const args = ['SELECT 1', () => {}];
    let received: unknown[] = [];
    const driver: AnyMethod = (...given) => ((received = given), 'result');
    const statement = Statement.start(connection)!;
    const broken = (): { args: unknown[] } | undefined => undefined;
    expect(statement.run(driver, null, args, broken)).toEqual({ prepared: undefined, result: 'result' });
    expect(received).toEqual(args);
    expect(received[1]).toBe(args[1]);
    statement.succeeded();
    expect(calls).toEqual(['executed ["default","postgresql"] 1 false']);
  });
});
