import { describe, expect, test } from 'vitest';
import { BODY_BUCKETS, DEFAULT_LATENCY_BUCKETS } from '../../views/index.js';
import { formatFloat, pythonFloatRepr } from '../../src/exposition/format.js';

// Expected strings were printed by Python 3.11 on this machine, once: `repr(float(x))` and
// prometheus_client's `floatToGoString(x)` (utils.py, inlined), e.g.
//   python3 -c 'print(repr(float(1048576)))'
// [input, repr, floatToGoString]
const PYTHON: Array<[number, string, string]> = [
  [0, '0.0', '0.0'],
  [1, '1.0', '1.0'],
  [2, '2.0', '2.0'],
  [42, '42.0', '42.0'],
  [-3, '-3.0', '-3.0'],
  [-0, '-0.0', '-0.0'],
  [0.1, '0.1', '0.1'],
  [0.3, '0.3', '0.3'],
  [0.1 + 0.2, '0.30000000000000004', '0.30000000000000004'],
  [1 / 3, '0.3333333333333333', '0.3333333333333333'],
  [1e-5, '1e-05', '1e-05'],
  [0.0001, '0.0001', '0.0001'],
  [0.000123, '0.000123', '0.000123'],
  [2.5e-7, '2.5e-07', '2.5e-07'],
  [5e-324, '5e-324', '5e-324'],
  [12345.678, '12345.678', '12345.678'],
  [123456, '123456.0', '123456.0'],
  [999999, '999999.0', '999999.0'],
  [1e6, '1000000.0', '1e+06'],
  [1048576, '1048576.0', '1.048576e+06'],
  [1100000, '1100000.0', '1.1e+06'],
  [1234567, '1234567.0', '1.234567e+06'],
  [10000000.5, '10000000.5', '1.00000005e+07'],
  [536870912, '536870912.0', '5.36870912e+08'],
  [12345678901, '12345678901.0', '1.2345678901e+010'],
  [1e16, '1e+16', '1e+16'],
  [1.5e16, '1.5e+16', '1.5e+16'],
  [123456789012345678, '1.2345678901234568e+17', '1.2345678901234568e+17'],
  [1e22, '1e+22', '1e+22'],
  [1.7976931348623157e308, '1.7976931348623157e+308', '1.7976931348623157e+308'],
  [-0.5, '-0.5', '-0.5'],
  [-1e-5, '-1e-05', '-1e-05'],
  [-2.5e-7, '-2.5e-07', '-2.5e-07'],
  [-1048576, '-1048576.0', '-1048576.0'],
  [-1e16, '-1e+16', '-1e+16'],
];

describe('pythonFloatRepr: Python 3 repr(float)', () => {
  test.each(PYTHON)('%s -> %s', (x, repr) => {
    expect(pythonFloatRepr(x)).toBe(repr);
  });

  test.each([
    [NaN, 'nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('%s -> %s', (x, repr) => {
    expect(pythonFloatRepr(x)).toBe(repr);
  });
});

describe("formatFloat: prometheus_client's floatToGoString", () => {
  test.each(PYTHON)('%s -> %s', (x, _repr, go) => {
    expect(formatFloat(x)).toBe(go);
  });

  test.each([
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%s -> %s', (x, go) => {
    expect(formatFloat(x)).toBe(go);
  });

  test('the default latency le list (E6)', () => {
    expect([...DEFAULT_LATENCY_BUCKETS, Infinity].map(formatFloat).join(' ')).toBe(
      '0.01 0.025 0.05 0.075 0.1 0.25 0.5 0.75 1.0 2.5 5.0 7.5 10.0 25.0 50.0 75.0 +Inf',
    );
  });

  test('the body-size le list (E5, E6)', () => {
    expect([...BODY_BUCKETS, Infinity].map(formatFloat).join(' ')).toBe(
      '0.0 1.0 2.0 4.0 8.0 16.0 32.0 64.0 128.0 256.0 512.0 1024.0 2048.0 4096.0 8192.0 16384.0 32768.0 ' +
        '65536.0 131072.0 262144.0 524288.0 1.048576e+06 2.097152e+06 4.194304e+06 8.388608e+06 ' +
        '1.6777216e+07 3.3554432e+07 6.7108864e+07 1.34217728e+08 2.68435456e+08 5.36870912e+08 +Inf',
    );
  });
});
