import { safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';

/** Wrapping the app's methods (a tool's class methods) so that ours compose with anyone else's. */

export type Method = (this: unknown, ...args: unknown[]) => unknown;

/** How a method is wrapped: given the method it wraps, the one installed. */
export type MethodWrapper = (original: Method) => Method;

/**
 * Wraps `owner[name]` with `wrap(original)` and returns how to undo it. Composes with other
 * wrappers of the same method (another integration may patch it too, before or after): the undo
 * puts the original back only while ours is still the installed method; if someone wrapped ours
 * since, it stays in their chain and goes inert (calls straight through), so theirs is never
 * removed. Ours is not marked as shimmer-wrapped, so a shimmer-based patch applied after it
 * treats it as the original; one applied before it can still unwrap itself through ours (shimmer calls the
 * installed method's `__unwrap`), which takes it out from under ours.
 */
export function wrapMethod(owner: object, name: string, wrap: MethodWrapper): Disable {
  const slots = owner as Record<string, unknown>;
  const found = slots[name];
  if (typeof found !== 'function') return () => {};
  const own = Object.getOwnPropertyDescriptor(owner, name);
  let original = found as Method;
  const wrapped = wrap(function (this: unknown): unknown {
    return original.apply(this, arguments as unknown as unknown[]);
  });
  let active = true;
  const installed = function (this: unknown): unknown {
    return (active ? wrapped : original).apply(this, arguments as unknown as unknown[]);
  };
  Object.defineProperty(installed, 'name', { value: original.name });
  const beneath = (original as { __original?: unknown }).__original;
  if (typeof (original as { __unwrap?: unknown }).__unwrap === 'function' && typeof beneath === 'function') {
    Object.defineProperty(installed, '__unwrap', { value: () => (original = beneath as Method), configurable: true });
  }
  Object.defineProperty(owner, name, { value: installed, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
  return () => {
    active = false;
    if (slots[name] !== installed) return;
    if (own === undefined) delete slots[name];
    else Object.defineProperty(owner, name, { ...own, value: original });
  };
}

/**
 * A wrapper for a tool's async method: `onSettled(self, fulfilled)` runs (contained at `site`)
 * once the promise the method returned settles. The method itself runs outside the containment
 * and the app gets a promise with exactly its value or error; a method that throws or returns a
 * non-promise is passed through untouched.
 */
export function afterSettled(site: string, onSettled: (self: unknown, fulfilled: boolean) => void): MethodWrapper {
  const notify = safe(site, onSettled);
  return (original) =>
    function (this: unknown): unknown {
      const result = original.apply(this, arguments as unknown as unknown[]);
      if (!isPromise(result)) return result;
      return result.then(
        (value) => {
          notify(this, true);
          return value;
        },
        (err: unknown) => {
          notify(this, false);
          throw err;
        },
      );
    };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}
