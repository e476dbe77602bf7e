import type { Disable } from '../otel/package-loads.js';

export function enableTypeormModels(): Disable {
  return () => {};
}
