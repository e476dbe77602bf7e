/**
 * The CommonJS exports behind an ES module namespace: an `import` of a CommonJS package seen
 * through import-in-the-middle carries them under `default`. Anything else is returned as is.
 */
export function commonJsExports(exports: unknown): unknown {
  const namespace = exports as { [Symbol.toStringTag]?: unknown; default?: unknown } | null;
  return namespace?.[Symbol.toStringTag] === 'Module' && namespace.default !== undefined ? namespace.default : exports;
}
