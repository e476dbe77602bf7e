import { basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The runner options that decide which files are migrations and how they are named. */
export interface MigrationFileOptions {
  dir: string | string[];
  ignorePattern?: string | string[];
  useGlob?: boolean;
  migrationLoaderStrategies?: ReadonlyArray<{ extensions: readonly string[]; loader: unknown }>;
}

type GetMigrationFilePaths = (dir: string | string[], options: { ignorePattern?: string | string[]; useGlob?: boolean; logger: object }) => Promise<string[]>;

/** node-pg-migrate logs a bad file name before it throws; the throw is the failed read, the log line would be noise in the app's output. */
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The names of the migrations in the folder, as node-pg-migrate names them: its own file listing
 * (`getMigrationFilePaths`: ignore pattern, globs, hidden files, numeric-prefix order), each file
 * one migration named without its extension, except `.up.sql`/`.down.sql` pairs under the `sql`
 * loader, which are one. `migrationModule` is node-pg-migrate's `migration` module file.
 */
export async function migrationNames(migrationModule: string, options: MigrationFileOptions): Promise<Set<string>> {
  const { getMigrationFilePaths } = (await import(pathToFileURL(migrationModule).href)) as { getMigrationFilePaths: GetMigrationFilePaths };
  const paths = await getMigrationFilePaths(options.dir, { ignorePattern: options.ignorePattern, useGlob: options.useGlob, logger: SILENT });
  return new Set(paths.map((path) => nameOf(path, options)));
}

function nameOf(path: string, options: MigrationFileOptions): string {
  const extension = extname(path);
  const name = basename(path, extension);
  return isGroupedSql(extension, options) ? name.replace(/\.(up|down)$/, '') : name;
}

/** Whether the `sql` loader, which pairs `.up.sql` with `.down.sql`, loads files of `extension`. */
function isGroupedSql(extension: string, options: MigrationFileOptions): boolean {
  const lower = extension.toLowerCase();
  const strategy = options.migrationLoaderStrategies?.find((s) => s.extensions.some((e) => e.toLowerCase() === lower));
  return strategy?.loader === 'sql';
}
