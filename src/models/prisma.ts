/** Prisma clients: a query extension counts the writes of the models `withModelOperations` maps. */
import { contain, safe } from '../contain.js';
import { logLine } from '../log.js';
import { currentModelRecorder, type ModelOperation } from './recorder.js';
import { registerModel } from './registrations.js';

const API = 'withModelOperations';

/** Instance writes, counted before they run; `upsert` is one update (Prisma does not say which branch ran). */
const INSTANCE = new Map<string, ModelOperation>([
  ['create', 'insert'],
  ['update', 'update'],
  ['upsert', 'update'],
  ['delete', 'delete'],
]);

/** Bulk writes: their affected rows after success, only with PROMETHEUS_EXPORT_MODEL_BULK. */
const BULK = new Map<string, ModelOperation>([
  ['createMany', 'insert'],
  ['createManyAndReturn', 'insert'],
  ['updateMany', 'update'],
  ['updateManyAndReturn', 'update'],
  ['deleteMany', 'delete'],
]);

/** The part of a Prisma client (plain or extended) this module uses. */
interface PrismaClientLike {
  $extends(extension: object): object;
  $connect(): unknown;
}

/** What a query extension's `$allOperations` receives. */
interface Operation {
  operation: string;
  args: unknown;
  query(args: unknown): Promise<unknown>;
}

/**
 * The registration target of a client's model: one object per client and model, so registering
 * the pair again is a no-op and a second name for it is refused, as for a model class.
 */
const targets = new WeakMap<object, Map<string, object>>();

/**
 * Clients returned here: the client they extend, and the models counted along the way, so that
 * instrumenting a returned client again never counts a model twice.
 */
const returned = new WeakMap<object, { base: object; counted: ReadonlySet<string> }>();

/**
 * Returns `prisma` extended with a query extension that counts the writes of the mapped models
 * (`{ Dog: 'dog' }`: Prisma model name, or its client property `dog`, to the `model` label), and
 * creates their zero series. Invalid arguments are logged and `prisma` is returned unchanged;
 * never throws.
 */
export function withModelOperations<T extends object>(prisma: T, models: Readonly<Record<string, string>>): T {
  return contain(API, () => instrument(prisma, models)) ?? prisma;
}

function instrument<T extends object>(prisma: T, models: unknown): T {
  if (!isPrismaClient(prisma)) {
    logLine(`${API}: expected a Prisma client; returned unchanged`);
    return prisma;
  }
  if (!isNameMap(models)) {
    logLine(`${API}: expected a map of Prisma model names to model names, such as { Dog: 'dog' }; the client is returned unchanged`);
    return prisma;
  }
  const chain = returned.get(prisma);
  const base = chain?.base ?? prisma;
  const counting = new Map<string, string>();
  for (const [model, name] of Object.entries(models)) {
    const key = clientProperty(model);
    if (!hasModel(prisma, key)) {
      logLine(`${API}: the Prisma client has no model "${model}"; ignored`);
      continue;
    }
    const registered = registerModel(targetOf(base, key), name, API);
    if (registered === undefined) continue;
    contain('model zero series', () => currentModelRecorder()?.labelsOf(registered));
    if (!chain?.counted.has(key)) counting.set(key, registered);
  }
  if (counting.size === 0) return prisma;
  const query = Object.fromEntries([...counting].map(([key, name]) => [key, { $allOperations: counted(name) }]));
  const client = prisma.$extends({ name: 'otel-django-metrics', query });
  returned.set(client, { base, counted: new Set([...(chain?.counted ?? []), ...counting.keys()]) });
  return client as T;
}

/** The query extension of one model: Prisma's own call always runs outside the counting steps. */
function counted(name: string): (operation: Operation) => Promise<unknown> {
  return ({ operation, args, query }) => {
    const instance = INSTANCE.get(operation);
    if (instance !== undefined) {
      countInstance(name, instance);
      return query(args);
    }
    const bulk = BULK.get(operation);
    if (bulk === undefined || currentModelRecorder()?.bulk !== true) return query(args);
    return query(args).then((result) => {
      countRows(name, bulk, result);
      return result;
    });
  };
}

const countInstance = safe('prisma model count', (name: string, operation: ModelOperation) => {
  currentModelRecorder()?.count(name, operation);
});

/** `{ count }` of `createMany`/`updateMany`/`deleteMany`, or the rows of the `...AndReturn` forms. */
const countRows = safe('prisma model bulk count', (name: string, operation: ModelOperation, result: unknown) => {
  const rows = Array.isArray(result) ? result.length : (result as { count?: unknown } | null)?.count;
  if (typeof rows === 'number') currentModelRecorder()?.countBulk(name, operation, rows);
});

function targetOf(client: object, key: string): object {
  let models = targets.get(client);
  if (models === undefined) targets.set(client, (models = new Map()));
  let target = models.get(key);
  if (target === undefined) models.set(key, (target = Object.freeze({ prismaModel: key })));
  return target;
}

function isPrismaClient(value: unknown): value is PrismaClientLike {
  const client = value as Partial<PrismaClientLike> | null;
  return typeof client === 'object' && client !== null && typeof client.$extends === 'function' && typeof client.$connect === 'function';
}

function isNameMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((name) => typeof name === 'string');
}

/** The client property of a model: Prisma lower-cases its first letter (`Dog` -> `prisma.dog`). */
function clientProperty(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}

function hasModel(client: object, key: string): boolean {
  const delegate = (client as Record<string, unknown>)[key] as { create?: unknown } | undefined;
  return typeof delegate === 'object' && delegate !== null && typeof delegate.create === 'function';
}
