import type { Disable } from '../otel/package-loads.js';

export function enableMikroOrmModels(): Disable {
  return () => {};
}
