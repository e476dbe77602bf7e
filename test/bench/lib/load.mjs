// Harness side of the load generator: one long-lived worker process (pinned to the load core),
// each job bounded in time; a stuck job kills the worker and a fresh one is spawned next time.
import { fileURLToPath } from 'node:url';
import { spawnNode } from './procs.mjs';
import { ROOT } from './variants.mjs';

const WORKER = fileURLToPath(new URL('./load-worker.mjs', import.meta.url));
const SLACK_MS = 20_000;

let worker = null;
let nextId = 1;
const pending = new Map();

function getWorker() {
  if (worker) return worker;
  const child = spawnNode('load', [WORKER], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`load generator: ${msg.error}`));
    else p.resolve(msg.result);
  });
  child.once('exit', (code, signal) => {
    if (worker === child) worker = null;
    for (const p of pending.values()) p.reject(new Error(`load generator exited (code ${code}, signal ${signal})`));
    pending.clear();
  });
  worker = child;
  return child;
}

/**
 * Runs one autocannon job against 127.0.0.1:port. mode: 'mix' (the app's normal traffic) or
 * 'unknown' (a fresh unmatched URL per request). Either durationSec or amount bounds it;
 * maxMs bounds it in time regardless.
 */
export function runLoad({ port, mode = 'mix', connections, durationSec, amount, maxMs }) {
  const child = getWorker();
  const id = nextId++;
  const limit = maxMs ?? durationSec * 1000 + SLACK_MS;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      child.kill('SIGKILL');
      reject(new Error(`load job exceeded ${Math.round(limit / 1000)} s`));
    }, limit);
    pending.set(id, {
      resolve: (r) => { clearTimeout(timer); resolve(r); },
      reject: (e) => { clearTimeout(timer); reject(e); },
    });
    child.send({ id, job: { port, mode, connections, durationSec, amount } });
  });
}

export function stopLoad() {
  worker?.kill('SIGKILL');
  worker = null;
}
