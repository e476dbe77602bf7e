import { createRequire } from 'node:module';
import type { InstrumentationContext } from '../instrumentation-context.js';
import type { Disable } from '../otel/package-loads.js';

// The ORM hooks load with their ORM (src/otel/package-loads.ts): require, to do it synchronously.
const require = createRequire(import.meta.url);

/** Each ORM whose entities are counted through a hook installed when the ORM loads, and that hook. */
const ORMS: ReadonlyArray<[packages: string[], enable: () => Disable]> = [
  [['typeorm'], () => (require('./typeorm.js') as typeof import('./typeorm.js')).enableTypeormModels()],
  [['@mikro-orm/core'], () => (require('./mikro-orm.js') as typeof import('./mikro-orm.js')).enableMikroOrmModels()],
];

/**
 * Installs the hooks that count registered entities of the ORMs that need one (TypeORM and
 * MikroORM subscribers); Sequelize models and Prisma clients are hooked at registration.
 * Returns the function that removes them.
 */
export function enableModelInstrumentation(context: InstrumentationContext): Disable {
  const disables = ORMS.map(([packages, enable]) => context.activate(packages, enable));
  return () => {
    for (const disable of disables) disable();
  };
}
