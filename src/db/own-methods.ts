/**
 * Per-connection wrappers. The hooks wrap `query`/`execute` on each connection object, not on the
 * driver's prototype: OTel's own instrumentation-pg/-mysql2 wrap (and on re-patch, unwrap) the
 * prototype methods, so a second wrapper there is dropped or doubles theirs depending on load
 * order. An own property always runs first and calls whatever the prototype holds at call time.
 */

export type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;

/** Installs `method` as a non-enumerable own property, so logging the object shows nothing new. */
export function defineOwnMethod(target: object, name: string, method: AnyMethod): void {
  Object.defineProperty(target, name, { value: method, writable: true, configurable: true, enumerable: false });
}

/** The method the driver's prototype chain has under `name` (the one an own wrapper shadows). */
export function protoMethod(target: object, name: string): AnyMethod {
  return (Object.getPrototypeOf(target) as Record<string, AnyMethod>)[name]!;
}
