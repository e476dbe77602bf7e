/** Sequelize models: hooks added to each registered model (owned by the Sequelize adapter work). */
export interface SequelizeModel {
  addHook(name: string, fn: (...args: unknown[]) => unknown): unknown;
}

export function isSequelizeModel(target: unknown): target is SequelizeModel {
  return typeof target === 'function' && typeof (target as Partial<SequelizeModel>).addHook === 'function';
}

export function watchSequelizeModel(_model: SequelizeModel): void {}
