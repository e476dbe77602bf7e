/** The public model API, re-exported by src/index.ts (metrics.md section 6). */
import { contain } from '../contain.js';
import { currentModelRecorder } from './recorder.js';
import { registerModel } from './registrations.js';
import { isSequelizeModel, watchSequelizeModel } from './sequelize.js';

export { withModelOperations } from './prisma.js';

/**
 * Registers a Sequelize model (from `define` or a `Model` subclass), a TypeORM entity class or a
 * MikroORM entity class under `name`: its inserts, updates and deletes are counted in the three
 * django_model_*_total families, whose `{model="<name>"}` series exist from now on. Registering
 * again is a no-op; a second name for the same target is logged and the first kept. Returns
 * `target`; never throws.
 */
export function exportModelOperations<T extends object>(target: T, name: string): T {
  const model = contain('exportModelOperations', () => registerModel(target, name, 'exportModelOperations'));
  if (model === undefined) return target;
  // Separate steps: a failure to create the zero series must not leave the model unwatched.
  contain('model zero series', () => currentModelRecorder()?.labelsOf(model));
  // Entity classes of TypeORM and MikroORM are counted by the subscriber installed in each
  // DataSource or MikroORM instance; a Sequelize model carries its own hooks.
  contain('sequelize model hooks', () => {
    if (isSequelizeModel(target)) watchSequelizeModel(target);
  });
  return target;
}

/** What a standard (TC39) class decorator gets as its second argument, as far as it is used here. */
interface ClassDecoratorContextLike {
  readonly kind?: unknown;
  addInitializer?(initializer: () => void): void;
}

/**
 * `exportModelOperations` as a class decorator: `@ExportModelOperations('dog')`, with TypeScript's
 * legacy decorators (`experimentalDecorators`, called with the class alone) and with standard
 * ones (called with the class and a context) alike. A standard decorator registers once the
 * class is fully defined (its static fields and blocks run, e.g. a Sequelize `init`).
 */
export function ExportModelOperations(name: string): <T extends abstract new (...args: never[]) => unknown>(target: T, context?: unknown) => void {
  return (target, context) => {
    contain('ExportModelOperations', () => {
      const standard = context as ClassDecoratorContextLike | undefined;
      if (standard?.kind === 'class' && typeof standard.addInitializer === 'function') standard.addInitializer(() => exportModelOperations(target, name));
      else exportModelOperations(target, name);
    });
  };
}
