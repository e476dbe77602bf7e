/**
 * A small reader of Prometheus text format 0.0.4 sample lines (metrics.md E11), so the test
 * utilities see exactly what a scrape serializes. Comments (`# HELP`, `# TYPE`) are skipped.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const ESCAPES = new Map([['\\', '\\'], ['"', '"'], ['n', '\n']]);

/** A float as Prometheus writes it: Go's `+Inf`/`-Inf`/`NaN` spellings included; `NaN` if not a number. */
export function parseFloatText(text: string): number {
  const t = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return t === '' ? NaN : Number(t);
}

export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const sample = parseLine(line);
    if (sample === undefined) throw new Error(`otel-django-metrics/testing: cannot parse exposition line ${i + 1}: ${line}`);
    samples.push(sample);
  });
  return samples;
}

/** `name{labels} value [timestamp]`, or `undefined` if the line is malformed. */
function parseLine(line: string): Sample | undefined {
  const name = token(NAME, line, 0);
  if (name === undefined) return undefined;
  let pos = name.length;
  const labels: Array<[string, string]> = [];
  if (line[pos] === '{') {
    const end = parseLabels(line, pos + 1, labels);
    if (end === undefined) return undefined;
    pos = end;
  }
  const rest = line.slice(pos);
  const m = /^[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*$/.exec(rest);
  if (m === null) return undefined;
  const value = parseFloatText(m[1]!);
  if (Number.isNaN(value) && m[1] !== 'NaN') return undefined;
  // fromEntries defines own properties, so a label named `__proto__` stays a label.
  return { name, labels: Object.fromEntries(labels), value };
}

/** Reads `a="x",b="y"}` from `pos`; returns the position after `}`. */
function parseLabels(line: string, pos: number, out: Array<[string, string]>): number | undefined {
  for (;;) {
    pos = skipSpaces(line, pos);
    if (line[pos] === '}') return pos + 1;
    const name = token(LABEL_NAME, line, pos);
    if (name === undefined) return undefined;
    pos = skipSpaces(line, pos + name.length);
    if (line[pos] !== '=') return undefined;
    pos = skipSpaces(line, pos + 1);
    if (line[pos] !== '"') return undefined;
    let value = '';
    for (pos++; line[pos] !== '"'; pos++) {
      if (pos >= line.length) return undefined;
      if (line[pos] === '\\') {
        const unescaped = ESCAPES.get(line[++pos] ?? '');
        if (unescaped === undefined) return undefined;
        value += unescaped;
      } else {
        value += line[pos];
      }
    }
    out.push([name, value]);
    pos = skipSpaces(line, pos + 1);
    if (line[pos] === ',') pos++;
    else if (line[pos] !== '}') return undefined;
  }
}

function token(re: RegExp, line: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(line)?.[0];
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === ' ' || line[pos] === '\t') pos++;
  return pos;
}
