// The grammar of settings: each parser returns the parsed value or throws `Invalid` with the reason
// shown to the user; `settingReader` turns a bad value into one line and the default.
import type { Logger } from './log.js';

export type Env = Record<string, string | undefined>;

/** A parser returns the parsed value or throws `Invalid` with the reason shown to the user. */
export class Invalid extends Error {}
export type Parser<T> = (raw: string) => T;

const BOOLEANS: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };

export const bool: Parser<boolean> = (raw) => {
  const v = BOOLEANS[raw.trim().toLowerCase()];
  if (v === undefined) throw new Invalid('expected true/false/1/0/yes/no/on/off');
  return v;
};

/**
 * The one number grammar of every numeric setting: plain decimal, as people write numbers.
 * `Number()` alone would also take hex, binary and octal literals, `Infinity` and blanks.
 */
const DECIMAL_INTEGER = /^\d+$/;
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> => (raw) => {
  const v = raw.trim();
  if (!DECIMAL_INTEGER.test(v)) throw new Invalid('not an integer');
  const n = Number(v);
  if (n < min || n > max) throw new Invalid(`out of range ${min}-${max}`);
  return n;
};

export const port = integer(1, 65535);

export const portOrOff: Parser<number | undefined> = (raw) => (raw.trim().toLowerCase() === 'off' ? undefined : port(raw));

export const namespace: Parser<string> = (raw) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) throw new Invalid('must match [A-Za-z_][A-Za-z0-9_]*');
  return raw;
};

/** `+Inf` is always the last bucket; a list may say so itself, but only at its end. */
const INF = /^\+?inf$/i;

export const buckets: Parser<readonly number[]> = (raw) => {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length > 0 && INF.test(parts[parts.length - 1]!)) parts.pop();
  if (parts.length === 0 || parts.some((p) => p === '')) throw new Invalid('empty entry');
  const values = parts.map((p) => {
    if (INF.test(p)) throw new Invalid(`${p} only as the last entry`);
    if (!DECIMAL_NUMBER.test(p)) throw new Invalid(`not a decimal number: ${p}`);
    const n = Number(p);
    if (!Number.isFinite(n)) throw new Invalid(`not a finite number: ${p}`);
    return n;
  });
  for (let i = 1; i < values.length; i++) if (values[i]! <= values[i - 1]!) throw new Invalid('not increasing');
  return Object.freeze(values);
};

export const range: Parser<readonly [number, number]> = (raw) => {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  if (!m) throw new Invalid('expected A-B');
  const a = port(m[1]!);
  const b = port(m[2]!);
  if (b < a) throw new Invalid('end before start');
  return [a, b];
};

export const address: Parser<string> = (raw) => {
  const v = raw.trim();
  if (v === '' || /\s/.test(v)) throw new Invalid('not a host or address');
  return v;
};

export const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) => {
  const v = raw.trim().toLowerCase() as T;
  if (!values.includes(v)) throw new Invalid(`expected one of ${values.join(', ')}`);
  return v;
};

/** Reads one setting (the first of `names` that is set): its parsed value, or `fallback` after one line naming the variable and value. */
export type SettingReader = <T>(names: string | string[], parse: Parser<T>, fallback: T) => T;

export function settingReader(env: Env, log: Logger): SettingReader {
  return function read<T>(names: string | string[], parse: Parser<T>, fallback: T): T {
    for (const name of Array.isArray(names) ? names : [names]) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      try {
        return parse(raw);
      } catch (e) {
        if (!(e instanceof Invalid)) throw e;
        log(`invalid ${name}="${raw}" (${e.message}); using default`);
        return fallback;
      }
    }
    return fallback;
  };
}
