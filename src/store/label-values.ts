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

/**
 * A family's last label-value tuple and the series it found: consecutive requests mostly carry
 * the same values (the same method, status, charset, often the same view), and comparing a few
 * string references costs less than a Map probe per label. The caller's tuple is reused by the
 * next call of its arity, so the values are copied. Series are never removed and a tuple always
 * finds the same series, so a remembered answer stays right.
 */
export class LastSeries<S> {
  /** A packed copy of the last values; rewritten in place while the arity stays (it does per family). */
  private values: string[] | undefined = undefined;
  private series: S | undefined = undefined;

  /** The series for `values`: the remembered one when they match, otherwise `find(values)`'s, remembered. */
  get(values: readonly string[], find: (values: readonly string[]) => S): S {
    const last = this.values;
    const same = last !== undefined && last.length === values.length;
    if (same) {
      let i = 0;
      while (i < last.length && last[i] === values[i]) i++;
      if (i === last.length) return this.series!;
    }
    const series = find(values);
    if (same) for (let i = 0; i < last.length; i++) last[i] = values[i]!;
    else this.values = values.slice();
    this.series = series;
    return series;
  }
}
