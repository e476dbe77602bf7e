import { ALL_FAMILIES, type FamilyDef } from '../../views/index.js';
import type { HttpRecorder } from '../http/recorder.js';
import { logLine, type Logger } from '../log.js';
import type { Registry } from '../store/registry.js';
import { checkOptions, type CheckedOptions, type ConfigureOptions, type LabelMetric, type ViewName } from './options.js';

/**
 * What every `configure()` call so far has set: later calls replace the hooks they pass and the
 * families they name. Kept in one process-global slot, by family name, so that the `--import`
 * entry and any ESM or CJS copy of the package see the same settings, whichever starts first.
 */
interface Configured {
  labelMetric: LabelMetric | undefined;
  viewName: ViewName | undefined;
  readonly extraLabels: Map<string, readonly string[]>;
  readonly buckets: Map<string, readonly number[]>;
}

const SLOT = Symbol.for('otel-django-metrics.configure');

function configured(): Configured {
  const holder = globalThis as { [SLOT]?: Configured };
  return (holder[SLOT] ??= { labelMetric: undefined, viewName: undefined, extraLabels: new Map(), buckets: new Map() });
}

/** What a running distribution hands `configure()` to apply the settings to. */
export interface ConfigureTarget {
  readonly registry: Registry;
  readonly http: HttpRecorder;
}

/**
 * Records `options` and applies them to `target` (the running distribution), if there is one; a
 * distribution started later applies them at its start (`applyConfigured`).
 */
export function configureWith(options: ConfigureOptions, target: ConfigureTarget | undefined, log: Logger = logLine): void {
  const checked = checkOptions(options, log);
  const all = configured();
  if ('labelMetric' in checked) all.labelMetric = checked.labelMetric;
  if ('viewName' in checked) all.viewName = checked.viewName;
  for (const [def, labels] of checked.extraLabels) all.extraLabels.set(def.name, labels);
  for (const [def, bounds] of checked.buckets) all.buckets.set(def.name, bounds);
  if (target !== undefined) apply(target, namedIn(checked), log);
}

/** Applies every `configure()` call made before this distribution started. */
export function applyConfigured(target: ConfigureTarget, log: Logger = logLine): void {
  const all = configured();
  const named = ALL_FAMILIES.filter((def) => all.extraLabels.has(def.name) || all.buckets.has(def.name));
  apply(target, named, log);
}

function apply(target: ConfigureTarget, reshape: readonly FamilyDef[], log: Logger): void {
  const all = configured();
  for (const def of reshape) {
    const changed = target.registry.reshape(def, all.extraLabels.get(def.name) ?? [], all.buckets.get(def.name));
    if (!changed) log(`configure: ${def.name} already has samples; its labels and buckets are not changed (call configure() before serving traffic)`);
  }
  target.http.extend(all.labelMetric, all.viewName);
}

function namedIn(checked: CheckedOptions): FamilyDef[] {
  return ALL_FAMILIES.filter((def) => checked.extraLabels.has(def) || checked.buckets.has(def));
}
