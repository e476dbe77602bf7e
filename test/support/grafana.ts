// The shipped Grafana dashboards (examples/grafana/dashboards) read as Grafana reads them: their
// panel and variable queries, Grafana's variable interpolation, and the variable chain resolved
// against a real Prometheus, so every query can be run exactly as a dashboard would send it.
import { readdirSync, readFileSync } from 'node:fs';
import type { RunningPrometheus } from './prometheus.js';
import { ROOT } from './processes.js';

export const DASHBOARDS_DIR = `${ROOT}examples/grafana/dashboards/`;

/** The parts of Grafana's dashboard JSON these helpers read. */
export interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}

export interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  /** A row's panels while it is collapsed. */
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  hide?: number;
  current?: { text?: string | string[]; value?: string | string[] };
}

export interface Dashboard {
  /** The file name, e.g. `requests.json`. */
  file: string;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  [key: string]: unknown;
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ ...(JSON.parse(readFileSync(`${DASHBOARDS_DIR}${file}`, 'utf8')) as Dashboard), file }));
}

export interface PanelQuery {
  panel: string;
  refId: string;
  expr: string;
}

/** Every panel's targets, those of collapsed rows included, in dashboard order. */
export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  const walk = (panels: Panel[]): PanelQuery[] =>
    panels.flatMap((p) => [...(p.targets ?? []).map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })), ...walk(p.panels ?? [])]);
  return walk(dashboard.panels);
}

export interface VariableQuery {
  name: string;
  query: string;
}

/** A variable's query: Grafana stores a Prometheus one as a string or, since its visual editor, an object. */
export const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : v.query.query);

/** The query of every `query` variable, in the variables' order. */
export function variableQueries(dashboard: Dashboard): VariableQuery[] {
  return dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ name: v.name, query: variableQuery(v) }));
}

/** Grafana's value for the "All" option of a variable with `includeAll`. */
export const All = Symbol('All');

/** What a user picks in a variable's drop-down. */
export type Choice = string | readonly string[] | typeof All;

/**
 * A variable's value as interpolation sees it: a single-value variable's text, the values picked
 * in a multi-value one, or All standing for the variable's `allValue`.
 */
export type VariableValue = string | { values: readonly string[] } | { allValue: string };

/** Grafana's built-ins at the settings the tests use: a 1 s scrape interval and a 1 h range. */
export const BUILTINS: Readonly<Record<string, string>> = { __rate_interval: '1m', __interval: '15s', __range: '1h' };

// Grafana's template-variable syntaxes: $var, [[var]] or [[var:format]], ${var} or ${var:format}.
const REFERENCE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

/** As Grafana's Prometheus data source escapes a single value (inside a PromQL string). */
const regularEscape = (v: string) => v.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
/** As it escapes each value of a multi-value variable: regex-escaped, backslashes doubled for the PromQL string. */
const promRegexEscape = (v: string) => v.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
/** Grafana's `regex` format (kbn.regexEscape). */
const regexEscape = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

const alternation = (values: readonly string[]) => (values.length === 1 ? values[0]! : `(${values.join('|')})`);

function format(value: VariableValue, fmt: string | undefined): string {
  if (typeof value === 'string') return fmt === 'regex' ? regexEscape(value) : regularEscape(value);
  if ('allValue' in value) return value.allValue;
  if (fmt === 'regex') return alternation(value.values.map(regexEscape));
  if (fmt !== undefined) throw new Error(`variable format ${fmt} is not implemented`);
  return alternation(value.values.map(promRegexEscape));
}

/**
 * `expr` with Grafana's interpolation applied: `values` and the built-ins. A reference to an
 * unknown name is left as written, as Grafana leaves it (so `$1` in `label_replace` survives).
 */
export function substitute(expr: string, values: Readonly<Record<string, VariableValue>>): string {
  return expr.replace(REFERENCE, (match, plain?: string, bracket?: string, bracketFmt?: string, braced?: string, bracedFmt?: string) => {
    const name = (plain ?? bracket ?? braced)!;
    const fmt = bracketFmt ?? bracedFmt;
    if (name in BUILTINS) return BUILTINS[name]!;
    const value = values[name];
    return value === undefined ? match : format(value, fmt);
  });
}

/**
 * The options a variable's `regex` leaves of `values`, as Grafana derives them: values it does not
 * match are dropped; a named group `value` or the first capture group, when present, is the option.
 */
export function variableOptions(variable: Variable, values: string[]): string[] {
  const regex = variable.regex;
  if (!regex) return values;
  const literal = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  const re = literal ? new RegExp(literal[1]!, literal[2]!.replace('g', '')) : new RegExp(regex);
  return values.flatMap((v) => {
    const m = re.exec(v);
    if (!m) return [];
    return [m.groups?.value ?? (m.length > 1 ? m[1] : undefined) ?? v];
  });
}

const LABEL_VALUES = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$/s;

export interface ResolvedVariables {
  /** Each variable's value, for `substitute`. */
  values: Record<string, VariableValue>;
  /** The options each query variable offered. */
  options: Record<string, string[]>;
}

/**
 * Runs the dashboard's variable queries in order, each with the values chosen before it, as Grafana
 * does on load. Every query variable takes `choices[name]` (All when absent and the variable
 * offers it); a choice must be among the variable's options, and All needs at least one option.
 */
export async function resolveVariables(
  prometheus: RunningPrometheus,
  dashboard: Dashboard,
  choices: Readonly<Record<string, Choice>>,
): Promise<ResolvedVariables> {
  const values: Record<string, VariableValue> = {};
  const options: Record<string, string[]> = {};
  for (const variable of dashboard.templating.list) {
    if (variable.type === 'datasource') {
      values[variable.name] = String(variable.current?.value ?? '');
      continue;
    }
    if (variable.type !== 'query') throw new Error(`${dashboard.file}: variable ${variable.name} of type ${variable.type} is not implemented`);
    const query = substitute(variableQuery(variable), values);
    const parsed = LABEL_VALUES.exec(query);
    if (!parsed) throw new Error(`${dashboard.file}: variable ${variable.name}: only label_values(...) is implemented, got ${query}`);
    const [, match = '{__name__=~".+"}', label] = parsed;
    const offered = variableOptions(variable, await prometheus.labelValues(label!, match));
    options[variable.name] = offered;

    const choice = choices[variable.name] ?? (variable.includeAll ? All : undefined);
    if (choice === undefined) throw new Error(`${dashboard.file}: no choice for variable ${variable.name}`);
    if (choice === All) {
      if (!variable.includeAll || typeof variable.allValue !== 'string') throw new Error(`${dashboard.file}: variable ${variable.name} has no All value`);
      if (offered.length === 0) throw new Error(`${dashboard.file}: variable ${variable.name} offers nothing (${query})`);
      values[variable.name] = { allValue: variable.allValue };
      continue;
    }
    const picked = typeof choice === 'string' ? [choice] : choice;
    const missing = picked.filter((v) => !offered.includes(v));
    if (missing.length) throw new Error(`${dashboard.file}: variable ${variable.name} does not offer ${missing.join(', ')} (offers ${offered.join(', ')})`);
    if (variable.multi || variable.includeAll) values[variable.name] = { values: picked };
    else if (picked.length === 1) values[variable.name] = picked[0]!;
    else throw new Error(`${dashboard.file}: variable ${variable.name} takes one value`);
  }
  return { values, options };
}

/** A panel query as sent (variables substituted) and the number of series it returned. */
export interface QueryResult extends PanelQuery {
  series: number;
}

/** Every panel query of the dashboard, substituted for `choices` and run as an instant query. */
export async function runDashboard(
  prometheus: RunningPrometheus,
  dashboard: Dashboard,
  choices: Readonly<Record<string, Choice>>,
): Promise<QueryResult[]> {
  const { values } = await resolveVariables(prometheus, dashboard, choices);
  const results: QueryResult[] = [];
  for (const q of panelQueries(dashboard)) {
    const expr = substitute(q.expr, values);
    results.push({ ...q, expr, series: (await prometheus.query(expr)).length });
  }
  return results;
}
