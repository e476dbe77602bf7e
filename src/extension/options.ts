import type { IncomingMessage, ServerResponse } from 'node:http';
import { DB, HTTP, type FamilyDef } from '../../views/index.js';
import { logLine, type Logger } from '../log.js';

/** What `labelMetric` is told about the family being recorded. */
export interface MetricInfo {
  /** The exposed name without the namespace prefix (`django_http_requests_total_by_method_total`). */
  readonly name: string;
  /** The name django-prometheus's code sees as `metric._name` (counters without their last `_total`). */
  readonly djangoName: string;
}

/** The request being measured; `res` is final at completion. */
export interface LabelContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/**
 * Runs for every routing-level recording (the HTTP families #5 to #19) with the family's own
 * labels; returns the labels to record, the family's extra labels included.
 */
export type LabelMetric = (metric: MetricInfo, labels: Record<string, string>, context: LabelContext) => Record<string, unknown>;

/** What `viewName` is given once per route match (or once per request on plain node:http). */
export interface ViewNameContext {
  readonly req: IncomingMessage;
  /** `express`, `fastify`, `koa`, `hapi`, or `node:http` for a request no framework took. */
  readonly framework: string;
  /** The matched route template; `undefined` on plain node:http. */
  readonly route: string | undefined;
}

export type ViewName = (context: ViewNameContext) => string | undefined;

export interface ConfigureOptions {
  labelMetric?: LabelMetric | undefined;
  /** Extra label names per family (exposed name without the namespace prefix). */
  extraLabels?: Readonly<Record<string, readonly string[]>> | undefined;
  viewName?: ViewName | undefined;
  /** Bucket upper bounds (seconds, ascending; `+Inf` is implicit) per latency histogram. */
  buckets?: Readonly<Record<string, readonly number[]>> | undefined;
}

/** `configure()`'s options once checked: what was refused has been logged and left out. */
export interface CheckedOptions {
  labelMetric?: LabelMetric | undefined;
  viewName?: ViewName | undefined;
  readonly extraLabels: Map<FamilyDef, readonly string[]>;
  readonly buckets: Map<FamilyDef, readonly number[]>;
}

/** The routing-level HTTP families (#5 to #19): the ones `labelMetric` and extra labels apply to. */
export const ROUTING_FAMILIES: readonly FamilyDef[] = Object.values(HTTP).filter(
  (def) => ![HTTP.requestsBefore, HTTP.responsesBefore, HTTP.latencyIncludingMiddlewares, HTTP.unknownLatencyIncludingMiddlewares].includes(def),
);

/** The three latency histograms whose buckets an app may set per family. */
export const LATENCY_FAMILIES: readonly FamilyDef[] = [HTTP.latencyIncludingMiddlewares, HTTP.latencyByViewMethod, DB.queryDuration];

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Checks `configure()`'s options. Each refused part is one line naming the option, the family and
 * the value, and is left out; the rest applies. A refused option never throws into the app.
 */
export function checkOptions(options: ConfigureOptions, log: Logger = logLine): CheckedOptions {
  const checked: CheckedOptions = { extraLabels: new Map(), buckets: new Map() };
  if (options === null || typeof options !== 'object') {
    log(`configure: options must be an object, not ${describe(options)}; nothing is changed`);
    return checked;
  }
  for (const key of ['labelMetric', 'viewName'] as const) {
    if (!(key in options)) continue;
    const fn = options[key];
    // An explicit `undefined` removes the hook set by an earlier call.
    if (fn === undefined || typeof fn === 'function') (checked as Record<typeof key, unknown>)[key] = fn;
    else log(`configure: ${key} must be a function, not ${describe(fn)}; ignored`);
  }
  for (const [name, labels] of entries(options.extraLabels, 'extraLabels', log)) {
    const def = familyNamed(name, ROUTING_FAMILIES, 'extraLabels', 'the routing-level HTTP families (#5 to #19)', log);
    if (def === undefined) continue;
    const problem = labelNamesProblem(labels, def);
    if (problem) log(`configure: extraLabels.${name} = ${show(labels)} is refused: ${problem}`);
    else checked.extraLabels.set(def, [...(labels as string[])]);
  }
  for (const [name, bounds] of entries(options.buckets, 'buckets', log)) {
    const def = familyNamed(name, LATENCY_FAMILIES, 'buckets', 'the three latency histograms', log);
    if (def === undefined) continue;
    const problem = boundsProblem(bounds);
    if (problem) log(`configure: buckets.${name} = ${show(bounds)} is refused: ${problem}`);
    else checked.buckets.set(def, [...(bounds as number[])]);
  }
  return checked;
}

function entries(map: unknown, option: string, log: Logger): Array<[string, unknown]> {
  if (map === undefined) return [];
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    log(`configure: ${option} must be an object keyed by family name, not ${describe(map)}; ignored`);
    return [];
  }
  return Object.entries(map);
}

function familyNamed(name: string, allowed: readonly FamilyDef[], option: string, which: string, log: Logger): FamilyDef | undefined {
  const def = allowed.find((d) => d.name === name);
  if (def === undefined) log(`configure: ${option}.${name} is refused: ${option} applies to ${which}, by their names without the namespace prefix`);
  return def;
}

function labelNamesProblem(labels: unknown, def: FamilyDef): string | undefined {
  if (!Array.isArray(labels)) return 'a list of label names is expected';
  const seen = new Set<string>(def.labels);
  for (const label of labels) {
    if (typeof label !== 'string' || !LABEL_NAME.test(label) || label.startsWith('__')) return `${JSON.stringify(label)} is not a valid label name`;
    if (label === 'le' || label === 'otel_metric_overflow') return `${label} is reserved`;
    if (seen.has(label)) return `${label} is already a label of the family`;
    seen.add(label);
  }
  return undefined;
}

function boundsProblem(bounds: unknown): string | undefined {
  if (!Array.isArray(bounds) || bounds.length === 0) return 'a non-empty list of numbers is expected';
  for (let i = 0; i < bounds.length; i++) {
    const b: unknown = bounds[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) return `${String(b)} is not a finite number (+Inf is implicit)`;
    if (i > 0 && b <= (bounds[i - 1] as number)) return 'bounds must be strictly ascending';
  }
  return undefined;
}

/** A refused value as written in code: numbers as numbers (Infinity included), strings quoted. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${show(value)}`;
}
