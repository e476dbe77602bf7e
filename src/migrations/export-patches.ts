import { safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';

/**
 * Replacing a module's export, for tools whose hook point is an exported function or class
 * (knex's `makeKnex`, node-pg-migrate's `runner`, Kysely's classes) rather than a prototype method.
 */

/** The exports a patch hands back, with `name` replaced, and how to undo the replacement. */
export interface Replaced {
  readonly exports: unknown;
  readonly undo: Disable;
}

/**
 * Sets `exports[name]` to `value` where the module object allows it: CommonJS exports, and the
 * namespace import-in-the-middle gives an ES module import. A real ES module namespace (what
 * `require()` of an ES module returns) is read-only: the patch then hands the app a copy carrying
 * the replacement, which the undo cannot take back (the replacement must go inert by itself).
 */
export function replaceExport(exports: object, name: string, value: unknown): Replaced {
  const original = (exports as Record<string, unknown>)[name];
  if (Reflect.set(exports, name, value)) {
    return { exports, undo: () => void ((exports as Record<string, unknown>)[name] === value && Reflect.set(exports, name, original)) };
  }
  return { exports: { ...exports, [name]: value }, undo: () => {} };
}

/**
 * `cls` with `seen(instance, args)` run (contained at `site`) after each construction, its
 * subclasses' included. A Proxy keeps everything else of the class: its name, statics,
 * `prototype`, `instanceof`, and `extends`. The constructor runs outside the contained step.
 */
export function watchConstruction<C extends abstract new (...args: never[]) => object>(cls: C, site: string, seen: (instance: object, args: unknown[]) => void): C {
  const step = safe(site, seen);
  return new Proxy(cls, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget) as object;
      step(instance, args);
      return instance;
    },
  });
}

/**
 * One replacement per original export, made the first time it is seen: a module loaded twice
 * (through `require` and `import`) hands the app the same replacement both times.
 */
export class Replacements<T extends object> {
  private readonly byOriginal = new WeakMap<T, T>();
  private readonly made = new WeakSet<T>();

  /** The replacement of `original`, made with `make` unless it exists. */
  of(original: T, make: () => T): T {
    let replacement = this.byOriginal.get(original);
    if (replacement === undefined) {
      replacement = make();
      this.byOriginal.set(original, replacement);
      this.made.add(replacement);
    }
    return replacement;
  }

  /** Whether `value` is one of the replacements (a module object already showing ours). */
  isReplacement(value: T): boolean {
    return this.made.has(value);
  }
}
