import { logLine } from '../log.js';

/** What a registration recorded: each target's model name, and every name ever registered. */
interface Registrations {
  readonly names: WeakMap<object, string>;
  readonly all: Set<string>;
}

/**
 * Process-global, like the distribution's own slot: a model registered through one loaded copy
 * of the package (or before `start()`) is counted by the hooks of another.
 */
const SLOT = Symbol.for('otel-django-metrics.models');

type Holder = { [SLOT]?: Registrations };

const REGISTRATIONS: Registrations = ((globalThis as Holder)[SLOT] ??= { names: new WeakMap(), all: new Set() });

/** A model label: any text a person would type as a name, bounded so it cannot grow a series without limit. */
const MAX_NAME = 128;

/**
 * Records `name` as `target`'s model (Django's `ExportModelOperationsMixin("dog")`). Returns the
 * name to count under: `name`, or the first name if the target already had another (logged), or
 * `undefined` for an invalid name or target (logged; nothing is registered).
 */
export function registerModel(target: unknown, name: unknown, api: string): string | undefined {
  if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
    logLine(`${api}: expected a model class, a model or a client; ignored`);
    return undefined;
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME) {
    logLine(`${api}: a model name must be a string of 1-${MAX_NAME} characters; ignored`);
    return undefined;
  }
  const first = REGISTRATIONS.names.get(target);
  if (first !== undefined) {
    if (first !== name) logLine(`${api}: ${describe(target)} is already registered as model "${first}"; "${name}" is ignored`);
    return first;
  }
  REGISTRATIONS.names.set(target, name);
  REGISTRATIONS.all.add(name);
  return name;
}

/** The model name `target` was registered under, if any. */
export function modelNameOf(target: unknown): string | undefined {
  return typeof target === 'object' || typeof target === 'function' ? REGISTRATIONS.names.get(target as object) : undefined;
}

/** Every model name registered in this process, in registration order. */
export function registeredModelNames(): Iterable<string> {
  return REGISTRATIONS.all;
}

function describe(target: object): string {
  const name = typeof target === 'function' ? target.name : undefined;
  if (name) return `model class ${name}`;
  // withModelOperations registers one such object per client and model.
  const prismaModel = (target as { prismaModel?: unknown }).prismaModel;
  return typeof prismaModel === 'string' ? `Prisma model ${prismaModel}` : 'this target';
}
