import { defineOwnMethod, protoMethod, type AnyMethod } from '../db/own-methods.js';

/**
 * Wraps a static method of a model class as the class's own (non-enumerable) property, which
 * its subclasses inherit: the original runs first, untouched, then `after` (contained by the
 * caller) sees the class it was called on and its result. A static the class defines itself is
 * wrapped as it is; an inherited one is looked up at each call.
 */
export function wrapStatic(model: object, method: string, after: (self: unknown, result: unknown) => void): void {
  const own = Object.getOwnPropertyDescriptor(model, method)?.value as AnyMethod | undefined;
  const wrapper = function (this: unknown): unknown {
    const result = Reflect.apply(typeof own === 'function' ? own : protoMethod(model, method), this, arguments);
    after(this, result);
    return result;
  };
  Object.defineProperty(wrapper, 'name', { value: method });
  defineOwnMethod(model, method, wrapper);
}
