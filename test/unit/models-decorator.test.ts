import { fileURLToPath } from 'node:url';
import 'reflect-metadata';
import { Column, Entity, getMetadataArgsStorage, PrimaryGeneratedColumn } from 'typeorm';
import ts from 'typescript';
import { describe, expect, test, vi } from 'vitest';
import { ExportModelOperations } from '../../src/models/public.js';
import { modelNameOf } from '../../src/models/registrations.js';

const PUBLIC = fileURLToPath(new URL('../../src/models/public.ts', import.meta.url));

/** Compiler options of a TypeORM app (legacy decorators) and of an app on standard decorators. */
const MODES = {
  legacy: { experimentalDecorators: true, emitDecoratorMetadata: true },
  standard: { experimentalDecorators: false },
} as const;

const BASE: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true, types: [] };

/** An entity module as a TypeORM user writes it (the TypeORM decorators only where they apply: legacy). */
function entitySource(mode: keyof typeof MODES, model: string): string {
  const typeorm = mode === 'legacy';
  return [
    typeorm ? `import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';` : '',
    `import { ExportModelOperations } from ${JSON.stringify(PUBLIC.replace(/\.ts$/, '.js'))};`,
    typeorm ? `@Entity('decorated_${model}')` : '',
    `@ExportModelOperations('${model}')`,
    `export class Decorated {`,
    typeorm ? `  @PrimaryGeneratedColumn() id!: number;` : '',
    typeorm ? `  @Column('varchar') name!: string;` : '',
    // A static initialized after a standard class decorator ran: registration waits for it.
    `  static ready = true;`,
    `}`,
  ].join('\n');
}

/** Type errors of `source` compiled as a file of this repository. */
function typeErrors(source: string, options: ts.CompilerOptions): string[] {
  const file = fileURLToPath(new URL('../../src/models/decorated-entity.ts', import.meta.url));
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  const program = ts.createProgram([file], { ...options, noEmit: true, moduleResolution: ts.ModuleResolutionKind.Node10, esModuleInterop: true }, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** Runs `source` as TypeScript emits it, with the real modules it imports. */
function run(source: string, options: ts.CompilerOptions): { Decorated: new () => unknown } {
  const { outputText } = ts.transpileModule(source, { compilerOptions: options });
  const exports: Record<string, unknown> = {};
  const modules: Record<string, unknown> = { typeorm: { Column, Entity, PrimaryGeneratedColumn }, [PUBLIC.replace(/\.ts$/, '.js')]: { ExportModelOperations } };
  new Function('exports', 'require', outputText)(exports, (name: string) => modules[name]);
  return exports as { Decorated: new () => unknown };
}

describe('@ExportModelOperations(name) as TypeScript compiles it', () => {
  for (const [mode, flags] of Object.entries(MODES) as [keyof typeof MODES, (typeof MODES)[keyof typeof MODES]][]) {
    const options = { ...BASE, ...flags };
    const source = entitySource(mode, `dog_${mode}`);

    test(`${mode} decorators: the entity module type-checks`, () => {
      expect(typeErrors(source, options)).toEqual([]);
    }, 30_000);

    test(`${mode} decorators: the class is registered under the given name`, () => {
      const { Decorated } = run(source, options);
      expect(modelNameOf(Decorated)).toBe(`dog_${mode}`);
      if (mode === 'legacy') expect(getMetadataArgsStorage().tables.find((t) => t.target === Decorated)?.name).toBe(`decorated_dog_${mode}`);
    });
  }
});

describe('the decorator function called both ways', () => {
  test('legacy: called with the class alone, it registers at once', () => {
    class Dog {}
    expect(ExportModelOperations('legacy_dog')(Dog)).toBeUndefined();
    expect(modelNameOf(Dog)).toBe('legacy_dog');
  });

  test('standard: called with a class context, it registers once the class is fully defined', () => {
    class Dog {}
    const initializers: (() => void)[] = [];
    const context = { kind: 'class', name: 'Dog', addInitializer: (fn: () => void) => initializers.push(fn), metadata: {} };
    expect(ExportModelOperations('standard_dog')(Dog, context)).toBeUndefined();
    expect(modelNameOf(Dog)).toBeUndefined();
    for (const fn of initializers) fn();
    expect(modelNameOf(Dog)).toBe('standard_dog');
  });

  test('a context that is not a class decorator context: registers at once', () => {
    class Dog {}
    ExportModelOperations('odd_dog')(Dog, { kind: 'method' });
    expect(modelNameOf(Dog)).toBe('odd_dog');
  });

  test('a context whose addInitializer throws: the class definition goes on, the class unregistered, the failure reported', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    class Dog {}
    const context = {
      kind: 'class',
      addInitializer() {
        throw new Error('too late');
      },
    };
    expect(() => ExportModelOperations('late_dog')(Dog, context)).not.toThrow();
    expect(modelNameOf(Dog)).toBeUndefined();
    expect(write.mock.calls.map(([line]) => String(line))).toEqual([
      'otel-django-metrics: ODM001 ExportModelOperations failed; the measurement is dropped and the app is unaffected: Error: too late\n',
    ]);
    write.mockRestore();
  });
});
