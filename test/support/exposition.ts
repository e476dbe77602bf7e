/** A parsed Prometheus text exposition, for exact assertions on names, labels and values. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  /** The value exactly as printed. */
  text: string;
  value: number;
}

export interface FamilyHeader {
  help: string;
  type: string;
}

export interface Exposition {
  raw: string;
  samples: Sample[];
  families: Map<string, FamilyHeader>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(raw: string): Exposition {
  const samples: Sample[] = [];
  const families = new Map<string, FamilyHeader>();
  for (const line of raw.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      families.set(help[1]!, { help: help[2]!, type: families.get(help[1]!)?.type ?? '' });
      continue;
    }
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      families.set(type[1]!, { help: families.get(type[1]!)?.help ?? '', type: type[2]! });
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, text: m[3]!, value: Number(m[3]!.replace('+Inf', 'Infinity')) });
  }
  return { raw, samples, families };
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The value of the sample with exactly this name and label set, or `undefined`. */
export function valueOf(exp: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return exp.samples.find((s) => s.name === name && sameLabels(s.labels, labels))?.value;
}

/** Every sample of a name, as `{labels} value` strings sorted, for whole-vector assertions. */
export function vectorOf(exp: Exposition, name: string): string[] {
  return exp.samples
    .filter((s) => s.name === name)
    .map((s) => `${JSON.stringify(Object.fromEntries(Object.entries(s.labels).sort()))} ${s.value}`)
    .sort();
}

/** Label sets of a name, without `le`, de-duplicated: the series of a family. */
export function seriesOf(exp: Exposition, name: string): Record<string, string>[] {
  const seen = new Map<string, Record<string, string>>();
  for (const s of exp.samples) {
    if (s.name !== name) continue;
    const { le: _le, ...rest } = s.labels;
    seen.set(JSON.stringify(Object.entries(rest).sort()), rest);
  }
  return [...seen.values()];
}
