// Child-process bookkeeping: CPU pinning and the guarantee that no child outlives the harness.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const children = new Set();

/** Allowed CPUs of this process, from `taskset -cp` (respects container cpusets); null if unknown. */
function allowedCpus() {
  const r = spawnSync('taskset', ['-cp', String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const list = /list:\s*(\S+)/.exec(r.stdout)?.[1];
  if (!list) return null;
  const cpus = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Server on one core, load generator (and this harness) on another, when taskset and two CPUs
 * exist; otherwise unpinned, and the report says so.
 */
function detectPinning() {
  if (!existsSync('/usr/bin/taskset') && spawnSync('which', ['taskset']).status !== 0) {
    return { enabled: false, reason: 'taskset not found' };
  }
  const cpus = allowedCpus();
  if (!cpus || cpus.length < 2) return { enabled: false, reason: `fewer than 2 CPUs available (${cpus?.join(',') ?? '?'})` };
  const [server, load] = cpus;
  // -a: every thread of the harness (libuv/V8 threads already exist), so it never runs on the server's core.
  const self = spawnSync('taskset', ['-a', '-cp', String(load), String(process.pid)]);
  if (self.status !== 0) return { enabled: false, reason: 'taskset failed on this machine' };
  return { enabled: true, server, load, reason: `server on CPU ${server}, load generator and harness on CPU ${load}` };
}

let pinning;
export function getPinning() {
  pinning ??= detectPinning();
  return pinning;
}

/**
 * Spawns `node args` pinned to the role's CPU. taskset execs node, so child.pid is node's pid and
 * killing it kills the process that matters.
 */
export function spawnNode(role, args, options) {
  const pin = getPinning();
  const child = pin.enabled
    ? spawn('taskset', ['-c', String(pin[role]), process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  children.clear();
}

let installed = false;
/** On normal exit, Ctrl-C, SIGTERM or a crash of the harness: kill every child first. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping children`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error('bench: uncaught', err);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error('bench: unhandled rejection', err);
    killAll();
    process.exit(1);
  });
}
