import { describe, expect, test } from 'vitest';
import { parseFloatText, parseSamples } from '../../src/testing/parse.js';

describe('parseSamples', () => {
  test('skips HELP, TYPE and blank lines and reads names, labels and values', () => {
    const text = [
      '# HELP a_total Help with a \\\\ backslash and \\n newline',
      '# TYPE a_total counter',
      'a_total 3.0',
      '',
      'b_bucket{le="1.048576e+06",method="GET"} 2.0',
      '',
    ].join('\n');
    expect(parseSamples(text)).toEqual([
      { name: 'a_total', labels: {}, value: 3 },
      { name: 'b_bucket', labels: { le: '1.048576e+06', method: 'GET' }, value: 2 },
    ]);
  });

  test('decodes the three label-value escapes of text format 0.0.4', () => {
    const [sample] = parseSamples('m{v="a \\"q\\" \\\\ b\\nc } d"} 1.0');
    expect(sample!.labels).toEqual({ v: 'a "q" \\ b\nc } d' });
  });

  test('accepts spaces around labels, a trailing comma, an empty label set and a timestamp', () => {
    expect(parseSamples('m{ a = "1" , b="2", } 4.5 1700000000000\nn{} -1.5e-07')).toEqual([
      { name: 'm', labels: { a: '1', b: '2' }, value: 4.5 },
      { name: 'n', labels: {}, value: -1.5e-7 },
    ]);
  });

  test('reads +Inf, -Inf and NaN values', () => {
    const values = parseSamples('a +Inf\nb -Inf\nc NaN').map((s) => s.value);
    expect(values).toEqual([Infinity, -Infinity, NaN]);
  });

  test('keeps a label named __proto__ as an own label', () => {
    const [sample] = parseSamples('m{__proto__="x"} 1.0');
    expect(Object.keys(sample!.labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(sample!.labels)).toBe(Object.prototype);
  });

  test.each([
    ['no value', 'm'],
    ['a value that is not a number', 'm abc'],
    ['an unterminated label value', 'm{a="1} 2.0'],
    ['an unknown escape', 'm{a="\\t"} 2.0'],
    ['a missing comma between labels', 'm{a="1" b="2"} 2.0'],
    ['an unquoted label value', 'm{a=1} 2.0'],
    ['a name starting with a digit', '1m 2.0'],
    ['trailing garbage', 'm 1.0 2 3'],
  ])('rejects %s, naming the line', (_, line) => {
    expect(() => parseSamples(`ok 1.0\n${line}`)).toThrow(`otel-django-metrics/testing: cannot parse exposition line 2: ${line}`);
  });
});

describe('parseFloatText', () => {
  test.each([
    ['128', 128],
    ['128.0', 128],
    ['1.048576e+06', 1048576],
    ['+Inf', Infinity],
    ['Inf', Infinity],
    ['inf', Infinity],
    ['Infinity', Infinity],
    ['-Inf', -Infinity],
    ['', NaN],
    [' ', NaN],
    ['abc', NaN],
  ])('%j is %s', (text, value) => {
    expect(parseFloatText(text)).toBe(value);
  });
});
