import { modelNameOf } from './registrations.js';

/**
 * The registered class whose name `cls`'s writes count under: `cls` itself, else its nearest
 * registered ancestor, as a Django model inherits its parent's `ExportModelOperationsMixin` name.
 * `undefined` when neither is registered.
 */
export function registeredClassOf(cls: unknown): object | undefined {
  for (let c = cls; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    if (modelNameOf(c) !== undefined) return c;
  }
  return undefined;
}

/** The model name `cls`'s writes count under (see `registeredClassOf`), or `undefined`. */
export function registeredNameOf(cls: unknown): string | undefined {
  for (let c = cls; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    const name = modelNameOf(c);
    if (name !== undefined) return name;
  }
  return undefined;
}
