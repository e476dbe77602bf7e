import { describe, expect, test } from 'vitest';
import { negotiateFormat } from '../../src/exposition/negotiation.js';

// What Prometheus 2.42 sends on every scrape.
const PROMETHEUS_2_42 =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
// What Prometheus 3 sends: its text 1.0.0 and escaping parameters, weights below 1.
const PROMETHEUS_3 =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

describe('the exposition format negotiated from Accept', () => {
  test.each([
    ['Prometheus 2.42', PROMETHEUS_2_42, 'openmetrics'],
    ['Prometheus 3', PROMETHEUS_3, 'openmetrics'],
    ['OpenMetrics 1.0.0 alone', 'application/openmetrics-text; version=1.0.0', 'openmetrics'],
    ['OpenMetrics 0.0.1 alone (served as 1.0.0)', 'application/openmetrics-text; version=0.0.1', 'openmetrics'],
    ['OpenMetrics without a version', 'application/openmetrics-text', 'openmetrics'],
    ['a quoted version, type and parameter names in capitals', 'Application/OpenMetrics-Text; VERSION="1.0.0"', 'openmetrics'],
    ['application/* above text', 'application/*;q=0.9, text/plain;q=0.8', 'openmetrics'],
    ['a charset parameter does not matter', 'application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['python prometheus_client style, OpenMetrics only weighted', 'text/plain;q=0.2,application/openmetrics-text;q=0.3', 'openmetrics'],
  ])('%s -> %s', (_what, accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });

  test.each([
    ['no Accept header', undefined],
    ['an empty header', ''],
    ['*/* (curl, browsers)', '*/*'],
    ['text/plain 0.0.4', 'text/plain; version=0.0.4'],
    ['text preferred by q', 'application/openmetrics-text;q=0.5,text/plain;q=0.9'],
    ['a tie keeps the text', 'application/openmetrics-text;q=0.5,text/plain;q=0.5'],
    ['a tie under */* keeps the text', 'application/openmetrics-text;q=0.5,*/*;q=0.5'],
    ['OpenMetrics refused with q=0', 'application/openmetrics-text;q=0,*/*;q=0.1'],
    ['OpenMetrics refused, even under a wildcard that admits it', 'application/openmetrics-text;q=0,application/*'],
    ['an OpenMetrics version we do not write', 'application/openmetrics-text;version=2.0.0'],
    ['a type we do not write', 'application/json'],
    ['a bad q makes its range malformed (left out)', 'application/openmetrics-text;q=abc'],
    ['a q above 1 is malformed', 'application/openmetrics-text;q=1.5'],
    ['a parameter without a value is malformed', 'application/openmetrics-text;version'],
    ['no subtype', 'application'],
    ['*/subtype is not a media range', '*/openmetrics-text'],
    ['garbage', ';;,,==/'],
  ])('%s -> text', (_what, accept) => {
    expect(negotiateFormat(accept)).toBe('text');
  });

  test('the most specific range decides an offer\'s weight, whatever the order', () => {
    // The bare type (q=0.2) is more specific than application/* (q=1).
    expect(negotiateFormat('application/*,application/openmetrics-text;q=0.2,text/plain;q=0.5')).toBe('text');
    // A version we write is more specific than the bare type.
    expect(negotiateFormat('application/openmetrics-text;q=0.1,application/openmetrics-text;version=1.0.0,text/plain;q=0.5')).toBe('openmetrics');
    // Among equally specific ranges, the highest weight.
    expect(negotiateFormat('application/openmetrics-text;version=0.0.1;q=0.9,application/openmetrics-text;version=1.0.0;q=0.1,text/plain;q=0.5')).toBe('openmetrics');
  });

  test('a malformed range is left out, the others still count', () => {
    expect(negotiateFormat('text/plain;q=oops,application/openmetrics-text')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=oops,text/plain;q=0.1')).toBe('text');
  });

  test('repeated Accept headers are read as one list', () => {
    expect(negotiateFormat(['text/plain;q=0.5', 'application/openmetrics-text'])).toBe('openmetrics');
  });
});
