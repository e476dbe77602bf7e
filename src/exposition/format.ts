/**
 * Number and string formatting of the Prometheus text format as prometheus_client writes it
 * (metrics.md E6, E11): `le="1.0"` and `le="1"` are different series, so a job that mixes
 * Django and Node targets only aggregates if we print floats exactly like Python does.
 */

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for 1e-4 <= |x| < 1e16. */
export function pythonFloatRepr(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return (Object.is(x, -0) ? '-0' : String(x)) + '.0';
  if (x === 0) return '0.0';
  const exp = x.toExponential(); // shortest round-trip digits, e.g. "-1.5e-7"
  const e = exp.indexOf('e');
  const exponent = Number(exp.slice(e + 1));
  const negative = exp[0] === '-';
  const digits = exp.slice(negative ? 1 : 0, e).replace('.', '');
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const mag = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${mag < 10 ? '0' : ''}${mag}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intLen = exponent + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** prometheus_client's `floatToGoString`: Python repr, but Go-style exponents above six integer digits. */
export function formatFloat(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Number.isNaN(x)) return 'NaN';
  // Fast path for the common case (counts): small integers print as "N.0".
  if (Number.isInteger(x) && x >= 0 && x < 1e6 && !Object.is(x, -0)) return x + '.0';
  const s = pythonFloatRepr(x);
  const dot = s.indexOf('.');
  if (x > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(s: string): string {
  return /[\\"\n]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : s;
}

/** The `# HELP` and `# TYPE` lines of a family. */
export function familyHeader(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The HELP of the OTel resource's target metadata, as OpenTelemetry's Prometheus exporter writes it. */
export const TARGET_HELP = 'Target metadata';
