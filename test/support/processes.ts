import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../bench/lib/free-port.mjs';
import { parseExposition, type Exposition } from './exposition.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REGISTER = `${ROOT}dist/register.js`;

export { freePort };

export interface RunningApp {
  /** The port the app printed (`listening <port>` on stdout); 0 if it prints none. */
  port: number;
  metricsPort: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  url(path: string): string;
  scrape(): Promise<Exposition>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  env?: Record<string, string | undefined>;
  /** Node flags before the script; default: the preload. */
  nodeArgs?: string[];
  args?: string[];
  /** Resolve once stdout has this text; default `listening `. Empty string: resolve at once. */
  readyText?: string;
  timeoutMs?: number;
}

/**
 * Starts `node --import dist/register.js <script>` as users do, with its own metrics port, and
 * waits for the app to print `listening <port>`. Apps must listen on 127.0.0.1 and port 0.
 */
export async function spawnApp(script: string, options: SpawnOptions = {}): Promise<RunningApp> {
  const metricsPort = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    PROMETHEUS_METRICS_EXPORT_PORT: String(metricsPort),
    PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1',
    ...options.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? ['--import', REGISTER]), script, ...(options.args ?? [])], {
    env: env as NodeJS.ProcessEnv,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const readyText = options.readyText ?? 'listening ';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in time\nstdout: ${out}\nstderr: ${err}`)), options.timeoutMs ?? 15_000);
    const check = () => {
      if (readyText === '' || out.includes(readyText)) {
        clearTimeout(timer);
        const m = /listening (\d+)/.exec(out);
        resolve(m ? Number(m[1]) : 0);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (readyText !== '' && !out.includes(readyText)) reject(new Error(`${script} exited with ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
    check();
  });
  const running: RunningApp = {
    port,
    metricsPort,
    child,
    stdout: () => out,
    stderr: () => err,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    scrape: async () => parseExposition(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
  return running;
}
