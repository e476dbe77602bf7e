import { DataTypes, Model, Sequelize } from 'sequelize';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { exportModelOperations } from '../../src/models/public.js';
import { ModelRecorder } from '../../src/models/recorder.js';
import { currentDistribution, setDistribution, type RunningDistribution } from '../../src/state.js';
import { Registry } from '../../src/store/registry.js';

/**
 * Registering Sequelize models, without a database: the hooks and statics a registration adds,
 * and the counting decisions that need no query (a write to the unreachable server below still
 * counts, as a failing write does).
 */

// Nothing listens on port 1: a query fails at once, after the hooks ran.
const sequelize = new Sequelize('postgres://postgres@127.0.0.1:1/none', { logging: false, pool: { max: 1, acquire: 2000 } });
const HOOK = 'otel-django-metrics';

let registry: Registry;
let stderr: string[];
let previous: ReturnType<typeof currentDistribution>;

beforeEach(() => {
  registry = new Registry({ namespace: '', latencyBuckets: [1], maxSeriesPerMetric: 100 });
  previous = currentDistribution();
  setDistribution({ models: new ModelRecorder(registry, true) } as unknown as RunningDistribution);
  stderr = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((line) => (stderr.push(String(line)), true));
});

afterEach(() => {
  setDistribution(previous);
  vi.restoreAllMocks();
});

/** A model's inserts, updates and deletes in a scrape (`undefined` for a missing series). */
async function counts(model: string): Promise<Array<number | undefined>> {
  const out: string[] = [];
  await writeExposition(registry.collect(), out);
  const lines = out.join('').split('\n');
  return ['inserts', 'updates', 'deletes'].map((family) => {
    const line = lines.find((l) => l.startsWith(`django_model_${family}_total{model="${model}"} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  });
}

/** Our hooks of each type on a model (by name: Sequelize keeps named hooks as `{ name, fn }`). */
function ourHooks(model: typeof Model): Record<string, number> {
  const hooks = (model as unknown as { options: { hooks: Record<string, Array<{ name?: string }>> } }).options.hooks;
  return Object.fromEntries(Object.entries(hooks).map(([type, list]) => [type, list.filter((hook) => hook.name === HOOK).length]));
}

const EACH_ONCE = { beforeCreate: 1, beforeUpdate: 1, beforeDestroy: 1, beforeRestore: 1 };

describe('a `define` model', () => {
  const Dog = sequelize.define('UnitDog', { name: DataTypes.STRING, nick: DataTypes.VIRTUAL }, { timestamps: false });

  test('registering adds one hook per instance write, once, whatever the re-registrations', () => {
    exportModelOperations(Dog, 'unit_dog');
    exportModelOperations(Dog, 'unit_dog');
    exportModelOperations(Dog, 'unit_hound');
    expect(ourHooks(Dog)).toEqual(EACH_ONCE);
    expect(stderr).toEqual(['otel-django-metrics: exportModelOperations: model class UnitDog is already registered as model "unit_dog"; "unit_hound" is ignored\n']);
  });

  test('the bulk statics become own non-enumerable wrappers with their names; nothing enumerable is added', () => {
    for (const method of ['bulkCreate', 'update', 'destroy', 'restore', 'increment', 'upsert', 'init']) {
      const own = Object.getOwnPropertyDescriptor(Dog, method);
      expect(own?.enumerable, method).toBe(false);
      expect((own?.value as { name: string }).name, method).toBe(method);
    }
    expect(Object.keys(Dog)).toEqual(Object.keys(sequelize.define('UnitPlain', {}, { timestamps: false })));
  });

  test('a save that sends no query counts nothing: nothing changed, or only a virtual field', async () => {
    const dog = Dog.build({ id: 1, name: 'a' }, { isNewRecord: false, raw: true });
    await dog.save();
    dog.set('nick', 'ace');
    await dog.save();
    expect(await counts('unit_dog')).toEqual([0, 0, 0]);
  });

  test('writes that fail count, once each, before they run', async () => {
    const dog = Dog.build({ id: 1, name: 'a' }, { isNewRecord: false, raw: true });
    await expect(dog.update({ name: 'b' })).rejects.toThrow();
    await expect(Dog.create({ name: 'c' })).rejects.toThrow();
    await expect(dog.destroy()).rejects.toThrow();
    expect(await counts('unit_dog')).toEqual([1, 1, 1]);
  });

  test('a failing bulk write counts nothing, bulk setting on', async () => {
    await expect(Dog.update({ name: 'z' }, { where: { name: 'a' } })).rejects.toThrow();
    await expect(Dog.bulkCreate([{ name: 'y' }])).rejects.toThrow();
    expect(await counts('unit_dog')).toEqual([0, 0, 0]);
  });
});

describe('a `Model` class registered before its `init`', () => {
  // (A class with its own static `init(sequelize)`, as JavaScript apps write it, is in the integration fixture.)
  class Cat extends Model {}
  class Kitten extends Cat {}
  class Tabby extends Cat {}
  const attributes = { name: DataTypes.STRING };

  test('gets its hooks at `init`', () => {
    exportModelOperations(Cat, 'unit_cat');
    expect(Object.hasOwn(Cat, 'options')).toBe(false);
    Cat.init(attributes, { sequelize, modelName: 'UnitCat', timestamps: false });
    expect(ourHooks(Cat)).toEqual(EACH_ONCE);
  });

  test('an `init`ed subclass gets its own hooks and counts under the registered class', async () => {
    Kitten.init(attributes, { sequelize, modelName: 'UnitKitten', timestamps: false });
    expect(ourHooks(Kitten)).toEqual(EACH_ONCE);
    await expect(Kitten.create({ name: 'kit' })).rejects.toThrow();
    expect(await counts('unit_cat')).toEqual([1, 0, 0]);
  });

  test("a subclass registered under its own name, sharing the parent's hooks, counts under its own name only", async () => {
    exportModelOperations(Tabby, 'unit_tabby');
    expect(ourHooks(Cat)).toEqual(EACH_ONCE);
    await expect(Tabby.create({ name: 'tab' })).rejects.toThrow();
    expect([await counts('unit_tabby'), await counts('unit_cat')]).toEqual([
      [1, 0, 0],
      [0, 0, 0],
    ]);
  });
});

test('a model of another Sequelize major is logged and left untouched', () => {
  const addHook = vi.fn();
  const model = Object.assign(function Legacy() {}, { addHook, removeHook: vi.fn(), options: {}, sequelize: { constructor: { version: '5.22.5' } } });
  exportModelOperations(model, 'unit_legacy');
  expect(addHook).not.toHaveBeenCalled();
  expect(Object.hasOwn(model, 'update')).toBe(false);
  expect(stderr).toEqual(["otel-django-metrics: exportModelOperations: Sequelize 5.22.5 is not supported (6.x is); this model's writes are not counted\n"]);
});
