/**
 * Reused label-value tuples for the per-request path. A family only reads the values it is given
 * (a new series copies them into its label text), so one array per arity can serve every call:
 * no allocation per measurement. A tuple is valid until the next call of the same arity.
 */
const one: [string] = [''];
const two: [string, string] = ['', ''];
const three: [string, string, string] = ['', '', ''];

export function values1(a: string): readonly string[] {
  one[0] = a;
  return one;
}

export function values2(a: string, b: string): readonly string[] {
  two[0] = a;
  two[1] = b;
  return two;
}

export function values3(a: string, b: string, c: string): readonly string[] {
  three[0] = a;
  three[1] = b;
  three[2] = c;
  return three;
}
