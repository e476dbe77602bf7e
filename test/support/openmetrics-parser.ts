// A strict OpenMetrics parser for the tests: prometheus_client's own (Debian's
// python3-prometheus-client, for /usr/bin/python3; the first python3 on PATH may lack it), run on
// a text piped in. It enforces the format's structure: # EOF last, no blank line, family and
// sample names matching their type's suffixes, no clashing names, histogram buckets in order and
// consistent with _count, exemplars only on counters and buckets and within 128 characters.
import { spawnSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** The script: the parsed families as JSON on stdout, or `{"error": ...}` for the first violation. */
const SCRIPT = `
import json, math, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families

def number(x):
    return x if isinstance(x, int) or math.isfinite(x) else str(x)

def seconds(t):
    return None if t is None else (t if isinstance(t, float) else t.sec + t.nsec / 1e9)

def sample(s):
    e = s.exemplar
    exemplar = None if e is None else {'labels': e.labels, 'value': number(e.value), 'timestamp': seconds(e.timestamp)}
    return {'name': s.name, 'labels': s.labels, 'value': number(s.value), 'exemplar': exemplar}

try:
    families = [{'name': f.name, 'type': f.type, 'help': f.documentation, 'samples': [sample(s) for s in f.samples]}
                for f in text_string_to_metric_families(sys.stdin.read())]
except Exception as error:
    print(json.dumps({'error': str(error)}))
else:
    print(json.dumps({'families': families}))
`;

export interface OpenMetricsExemplar {
  labels: Record<string, string>;
  value: number;
  /** Seconds since the epoch. */
  timestamp: number | null;
}

export interface OpenMetricsSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar: OpenMetricsExemplar | null;
}

export interface OpenMetricsFamily {
  name: string;
  type: string;
  help: string;
  samples: OpenMetricsSample[];
}

/** The parser's verdict: the families, or the first violation it found. */
export type OpenMetricsParse = { families: OpenMetricsFamily[]; error?: undefined } | { error: string; families?: undefined };

/** Whether /usr/bin/python3 has prometheus_client's OpenMetrics parser. */
export function strictParserInstalled(): boolean {
  return spawnSync(PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], { stdio: 'ignore' }).status === 0;
}

/** Parses `text` with prometheus_client's strict OpenMetrics parser. */
export function parseOpenMetrics(text: string): OpenMetricsParse {
  const run = spawnSync(PYTHON, ['-c', SCRIPT], { input: text, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`${PYTHON} failed: ${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as OpenMetricsParse;
  // Infinities travel as the strings Python prints for them.
  for (const family of parsed.families ?? []) {
    for (const s of family.samples) s.value = Number(String(s.value).replace('inf', 'Infinity'));
  }
  return parsed;
}

/** The families of a text the parser must accept; throws with its verdict otherwise. */
export function strictFamilies(text: string): OpenMetricsFamily[] {
  const parsed = parseOpenMetrics(text);
  if (parsed.error !== undefined) throw new Error(`strict OpenMetrics parser: ${parsed.error}`);
  return parsed.families;
}

/** Every sample of the families that carries an exemplar, by sample name. */
export function exemplarsOf(families: readonly OpenMetricsFamily[], sampleName: string): OpenMetricsSample[] {
  return families.flatMap((f) => f.samples).filter((s) => s.name === sampleName && s.exemplar !== null);
}

/** What a scraper asking for OpenMetrics sends (Prometheus 2.42's header). */
export const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** One scrape of `url` in OpenMetrics: the Content-Type it came with and its text. */
export async function fetchOpenMetrics(url: string, headers: Record<string, string> = {}): Promise<{ contentType: string | null; text: string }> {
  const res = await fetch(url, { headers: { accept: OPENMETRICS_ACCEPT, ...headers } });
  return { contentType: res.headers.get('content-type'), text: await res.text() };
}
