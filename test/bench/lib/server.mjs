// One server process of one variant: spawn (pinned), wait for "listening", talk over IPC, stop.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { freePort } from './free-port.mjs';
import { appPath, ROOT } from './variants.mjs';
import { spawnNode } from './procs.mjs';

const LISTEN_TIMEOUT_MS = 20_000;
const CONTROL_TIMEOUT_MS = 15_000;
const OUTPUT_TAIL = 4000;

/** The harness's environment minus anything that would change a variant behind our back. */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('PROMETHEUS_') || k.startsWith('OTEL_')) continue;
    env[k] = v;
  }
  return env;
}

export async function startServer(variant, { env: extraEnv = {}, nodeArgs = [] } = {}) {
  const env = { ...cleanEnv(), ...variant.env, ...extraEnv };
  let metricsUrl = null;
  if (variant.metricsPortEnv) {
    const port = await freePort();
    env[variant.metricsPortEnv] = String(port);
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
  }
  const args = [...nodeArgs, ...(variant.preload ? ['--import', variant.preload] : []), appPath(variant)];
  const t0 = performance.now();
  const child = spawnNode('server', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const server = new Server(variant, child);
  const port = await server.listening;
  server.startupMs = performance.now() - t0;
  server.port = port;
  server.metricsUrl = metricsUrl ?? (variant.metricsPath ? `http://127.0.0.1:${port}${variant.metricsPath}` : null);
  return server;
}

class Server {
  constructor(variant, child) {
    this.variant = variant;
    this.child = child;
    this.tail = '';
    this.nextId = 1;
    this.pending = new Map();
    this.stopping = false;
    // Drain both pipes (a full pipe would stall the server) and keep the end for error messages.
    const keep = (chunk) => { this.tail = (this.tail + chunk).slice(-OUTPUT_TAIL); };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited.then(({ code, signal }) => {
      const err = this.fail(`exited (code ${code}, signal ${signal})`);
      for (const { reject } of this.pending.values()) reject(err);
      this.pending.clear();
    });
    this.listening = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.fail(`not listening after ${LISTEN_TIMEOUT_MS} ms`)), LISTEN_TIMEOUT_MS);
      child.on('message', (msg) => {
        if (msg?.type === 'listening') { clearTimeout(timer); resolve(msg.port); return; }
        const p = this.pending.get(msg?.id);
        if (p) { this.pending.delete(msg.id); p.resolve(msg); }
      });
      this.exited.then(() => { clearTimeout(timer); reject(this.fail('exited before listening')); });
    });
    this.listening.catch(() => this.stop());
  }

  fail(what) {
    const out = this.tail.trim() ? `\n--- server output (tail) ---\n${this.tail.trim()}` : '';
    return new Error(`${this.variant.name} server ${what}${out}`);
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  /** One request/reply over IPC (see apps/control.mjs), bounded in time. */
  control(type, payload = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(this.fail(`no reply to ${type}`)); }, CONTROL_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      try { this.child.send({ id, type, ...payload }); } catch (e) { this.pending.delete(id); clearTimeout(timer); reject(e); }
    });
  }

  snapshot(opts = {}) { return this.control('snapshot', opts); }

  /**
   * Milliseconds the server's main thread has spent waiting for a CPU so far (Linux schedstat),
   * null where unknown. On a shared machine, a loop block that is mostly this wait was another
   * process's doing, not the server's.
   */
  cpuWaitMs() {
    const { pid } = this.child;
    try {
      return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
    } catch {
      return null;
    }
  }

  /** Throws if the server died during a measurement (a crash must not read as a fast run). */
  assertAlive() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) throw this.fail('died during the run');
  }

  async stop() {
    if (this.stopping) return this.exited;
    this.stopping = true;
    // SIGKILL: nothing to flush, and a variant's graceful-shutdown hooks are not what is measured.
    this.child.kill('SIGKILL');
    return this.exited;
  }
}
