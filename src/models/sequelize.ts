import { safe } from '../contain.js';
import { logLine } from '../log.js';
import { registeredNameOf } from './entity-classes.js';
import { currentModelRecorder, type ModelOperation } from './recorder.js';
import { wrapBulkMethods } from './sequelize-bulk.js';
import { wrapStatic } from './sequelize-statics.js';

/** Tested with Sequelize 6.37; the hooks' `options.model` and `_virtualAttributes` are the internals relied on. */
const SUPPORTED = /^6\./;

/** The name the hooks are added under: adding them again (a re-registration, a re-`init`) replaces them. */
const HOOK_NAME = 'otel-django-metrics';

/** A Sequelize model class, as far as the hooks use it. */
export interface SequelizeModel {
  addHook(hookType: string, name: string, fn: Hook): unknown;
  removeHook(hookType: string, name: string): unknown;
  /** Set by `init` (and `define`); a subclass inherits its parent's until it is `init`ed itself. */
  readonly sequelize?: { readonly constructor?: { readonly version?: unknown } };
  readonly options?: object;
}

interface Instance {
  readonly constructor: unknown;
  changed(): unknown;
}

/** The hook options Sequelize passes; `model` is set only when Sequelize itself runs the write. */
interface HookOptions {
  readonly model?: unknown;
  readonly fields?: unknown;
  /** Set when Sequelize derived `fields` from the instance's changes (the app gave none). */
  readonly defaultFields?: unknown;
}

type Hook = (instance: Instance, options?: HookOptions) => void;

export function isSequelizeModel(target: unknown): target is SequelizeModel {
  const model = target as Partial<SequelizeModel> | null;
  return typeof target === 'function' && typeof model?.addHook === 'function' && typeof model.removeHook === 'function';
}

const watched = new WeakSet<object>();

/**
 * Counts a registered model's instance writes through its hooks and, with
 * PROMETHEUS_EXPORT_MODEL_BULK on, its bulk writes through its static methods. A class
 * registered before its `init` is watched once `init` has run.
 */
export function watchSequelizeModel(model: SequelizeModel): void {
  if (watched.has(model)) return;
  watched.add(model);
  wrapInit(model);
  if (model.options !== undefined && supported(model)) {
    wrapBulkMethods(model);
    addHooks(model);
  }
}

/**
 * `init` gives a class a fresh hook list (the class's first `init`, a subclass's own `init`), so
 * the hooks are added after it. The statics are wrapped at the registered class's first `init`.
 */
function wrapInit(model: SequelizeModel): void {
  let wrapped = model.options !== undefined;
  wrapStatic(model, 'init', safe('sequelize model init', (self: unknown) => {
    if (!isSequelizeModel(self) || !supported(self)) return;
    if (self === model && !wrapped) {
      wrapped = true;
      wrapBulkMethods(model);
    }
    addHooks(self);
  }));
}

function supported(model: SequelizeModel): boolean {
  const version = model.sequelize?.constructor?.version;
  if (typeof version === 'string' && SUPPORTED.test(version)) return true;
  logLine(`exportModelOperations: Sequelize ${String(version)} is not supported (6.x is); this model's writes are not counted`);
  return false;
}

/** The instance hooks, each counting one operation before the write runs. */
const HOOKS: ReadonlyArray<[hookType: string, hook: Hook]> = [
  ['beforeCreate', safe('sequelize insert count', (instance: Instance, options?: HookOptions) => countInstance(instance, options, 'insert'))],
  [
    'beforeUpdate',
    safe('sequelize update count', (instance: Instance, options?: HookOptions) => {
      if (sendsUpdate(instance, options)) countInstance(instance, options, 'update');
    }),
  ],
  // Paranoid models too: their instance `destroy()` runs these hooks, then saves a deletion time.
  ['beforeDestroy', safe('sequelize delete count', (instance: Instance, options?: HookOptions) => countInstance(instance, options, 'delete'))],
  // An instance `restore()` clears a paranoid model's deletion time: an update of the row.
  ['beforeRestore', safe('sequelize restore count', (instance: Instance, options?: HookOptions) => countInstance(instance, options, 'update'))],
];

function addHooks(model: SequelizeModel): void {
  for (const [hookType, hook] of HOOKS) {
    model.removeHook(hookType, HOOK_NAME);
    model.addHook(hookType, HOOK_NAME, hook);
  }
}

/**
 * An instance write of the app. Sequelize sets `options.model` when it runs the instance hooks
 * itself: per row of a static `update`/`destroy`/`restore` or a `bulkCreate` with
 * `individualHooks` (bulk writes), and for the associated rows of a nested `include` create
 * (counted for the top-level model only).
 */
function countInstance(instance: Instance, options: HookOptions | undefined, operation: ModelOperation): void {
  if (options?.model !== undefined) return;
  const recorder = currentModelRecorder();
  if (recorder === undefined) return;
  const name = registeredNameOf(instance.constructor);
  if (name !== undefined) recorder.count(name, operation);
}

/**
 * Whether `save()` will send its UPDATE: Sequelize skips it when no stored field is to be saved
 * or nothing changed (a no-op save still runs `beforeUpdate`). When the app gave no `fields`,
 * Sequelize derived them from the changes already, so `changed()` (which builds an array) is
 * asked only when the app named the fields itself.
 */
function sendsUpdate(instance: Instance, options: HookOptions | undefined): boolean {
  const fields = options?.fields;
  if (!Array.isArray(fields)) return false;
  const virtual = (instance.constructor as { _virtualAttributes?: unknown })._virtualAttributes;
  let stored = false;
  for (const field of fields) {
    if (!(virtual instanceof Set && virtual.has(field))) {
      stored = true;
      break;
    }
  }
  return stored && (options!.defaultFields !== undefined || instance.changed() !== false);
}
