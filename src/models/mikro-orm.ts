/**
 * MikroORM: every instance gets the model-operations subscriber without user code, and the
 * native bulk writes of the EntityManager are counted with PROMETHEUS_EXPORT_MODEL_BULK.
 */
import { InstrumentationNodeModuleDefinition, isWrapped, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { safe } from '../contain.js';
import { DriverInstrumentation, type PatchableExports } from '../db/driver-instrumentation.js';
import type { AnyMethod } from '../db/own-methods.js';
import type { Disable } from '../otel/package-loads.js';
import { countingNativeWrite, NATIVE_WRITES } from './mikro-orm-bulk.js';
import { subscribeConfiguration } from './mikro-orm-subscriber.js';

/** Tested with 6.6.9; the public `discoverEntities(Sync)` and EntityManager methods are the ones relied on. */
const VERSIONS = ['>=6 <7'];

/** Both ways an ORM discovers its entities and then builds its EntityManager from its configuration. */
const DISCOVERIES = ['discoverEntities', 'discoverEntitiesSync'];

interface CoreExports {
  MikroORM: PatchableExports;
  EntityManager: PatchableExports;
}

class MikroOrmModels extends DriverInstrumentation {
  constructor() {
    super('mikro-orm');
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        '@mikro-orm/core',
        VERSIONS,
        (exported: CoreExports) => {
          for (const method of DISCOVERIES) this.patchOnce(exported.MikroORM, method, subscribingDiscovery);
          for (const method of Object.keys(NATIVE_WRITES)) this.patchOnce(exported.EntityManager, method, (original) => countingNativeWrite(method, original));
          return exported;
        },
        (exported?: CoreExports) => {
          for (const method of DISCOVERIES) this.unpatchPrototype(exported?.MikroORM, method);
          for (const method of Object.keys(NATIVE_WRITES)) this.unpatchPrototype(exported?.EntityManager, method);
        },
      ),
    ];
  }

  /** The package's CommonJS file and, with the ESM hook, its ES module wrapper export the same classes: wrap once. */
  private patchOnce(exported: PatchableExports, method: string, wrapper: (original: AnyMethod) => AnyMethod): void {
    const proto = (exported as { prototype?: Record<string, unknown> }).prototype;
    if (!isWrapped(proto?.[method])) this.patchPrototype(exported, method, wrapper);
  }
}

/** The subscriber joins the configuration before the ORM builds its first EntityManager from it. */
function subscribingDiscovery(original: AnyMethod): AnyMethod {
  return function (this: unknown) {
    subscribe(this);
    return Reflect.apply(original, this, arguments);
  };
}

const subscribe = safe('mikro-orm subscriber registration', (orm: unknown): void => {
  const config = (orm as { config?: { get(key: 'subscribers'): unknown } }).config;
  if (config !== undefined) subscribeConfiguration(config);
});

/** Installs the MikroORM hooks (the app loaded `@mikro-orm/core`); returns the function that removes them. */
export function enableMikroOrmModels(): Disable {
  const instrumentation = new MikroOrmModels();
  instrumentation.enable();
  return () => instrumentation.disable();
}
