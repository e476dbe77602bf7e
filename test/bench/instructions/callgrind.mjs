// One server process under valgrind's callgrind: started with instrumentation off (valgrind then
// only translates, several times faster), warmed up, then instrumented for exactly counted windows of
// requests, each closed with a dump whose total Ir is the server's instructions for that window
// (all its threads: main, V8's compiler and GC helpers, libuv's pool).
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { runLoad } from '../lib/load.mjs';
import { ROOT } from '../lib/variants.mjs';

const LISTEN_TIMEOUT_MS = 180_000;
const CONTROL_TIMEOUT_MS = 60_000;
const OUTPUT_TAIL = 4000;

const servers = new Set();
/** Kills every server still running (harness exit paths). */
export function killServers() {
  for (const child of servers) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  servers.clear();
}

/** The harness's environment minus anything that would change a variant behind our back (as lib/server.mjs). */
export function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('PROMETHEUS_') || k.startsWith('OTEL_')) continue;
    env[k] = v;
  }
  return env;
}

function callgrindControl(args) {
  return new Promise((resolve, reject) => {
    execFile('callgrind_control', args, { timeout: CONTROL_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new Error(`callgrind_control ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Where V8's JIT compilers start, on any thread: background TurboFan jobs, their installation on
 * the main thread, a synchronous optimisation, a Sparkplug batch, a Maglev job. A compile landing
 * inside a measured window is a one-off, not a per-request cost, so it is reported apart.
 */
const JIT_ROOTS = /^v8::internal::(?:OptimizingCompileDispatcher::(?:CompileTask::RunInternal|InstallOptimizedFunctions)|Compiler::CompileOptimized|baseline::BaselineBatchCompiler::EnqueueFunction|maglev::MaglevConcurrentDispatcher::JobTask::Run)\(/;

/**
 * Where V8's garbage collector starts: a collection on the main thread (scavenges are mostly
 * started by a task, so how many land in a window depends on timing, and each costs several
 * million Ir of root scanning whatever the app allocated), an incremental marking step, and the
 * helper threads' jobs. Reported apart, like JIT: a window holds a whole number of collections.
 */
const GC_ROOTS = /^v8::internal::(?:Heap::CollectGarbage|IncrementalMarkingJob::Task::RunInternal|IncrementalMarking::AdvanceOnAllocation|ScavengerCollector::JobTask::Run|ConcurrentMarking::JobTask::Run|Sweeper::SweeperJob::Run|MemoryAllocator::Unmapper::UnmapFreeMemoryJob::Run)\(/;
/** The main thread joining a GC job it started inside a collection (already counted there). */
const GC_JOIN = /^v8::platform::DefaultJobState::Join\(/;

/** Ir spent under JIT_ROOTS and under GC_ROOTS (inclusive cost of the calls into them) in one callgrind dump's text. */
function rootsIr(text) {
  const names = new Map(); // callgrind's name compression: "(id) name" once, "(id)" after
  const name = (spec) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (!m) return spec;
    if (m[2] !== undefined) names.set(m[1], m[2]);
    return names.get(m[1]);
  };
  let fn = '';
  let callee = '';
  let callCost = false;
  let jit = 0;
  let gc = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) fn = name(line.slice(3));
    else if (line.startsWith('cfn=')) callee = name(line.slice(4));
    else if (line.startsWith('calls=')) callCost = true; // the next cost line is the call's inclusive cost
    else if (callCost && /^(?:[+-]?\d+|\*)\s/.test(line)) {
      callCost = false;
      const ir = Number(line.split(/\s+/)[1]);
      if (JIT_ROOTS.test(callee) && !JIT_ROOTS.test(fn)) jit += ir;
      else if (GC_ROOTS.test(callee) && !GC_ROOTS.test(fn) && !GC_JOIN.test(fn)) gc += ir;
    }
  }
  return { jit, gc };
}

/** Total Ir of one callgrind dump, its JIT compilers' and its garbage collector's parts; waits for the file to be complete (its closing `totals:` line). */
async function readDump(file) {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      const m = /^totals:\s*(\d+)/m.exec(text);
      if (m) return { total: Number(m[1]), ...rootsIr(text) };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no totals in ${file}`);
}

/**
 * Starts `node [--import preload] app` under callgrind, warms it with `warmup` requests of the
 * bench's mix, then measures `windows` windows of `requests` requests each. Returns
 * { irPerRequest: [per window], jitPerRequest: [per window], irTotal: [per window], served, wallMs }.
 */
export async function measure({ app, preload, env, outFile, warmup, requests, windows, connections, nodeArgs = [], valgrindArgs = [], log }) {
  const t0 = Date.now();
  const args = [
    '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`, ...valgrindArgs,
    process.execPath, ...nodeArgs, ...(preload ? ['--import', preload] : []), app,
  ];
  const child = spawn('valgrind', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  servers.add(child);
  let tail = '';
  const keep = (chunk) => { tail = (tail + chunk).slice(-OUTPUT_TAIL); };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const fail = (what) => new Error(`${app} server ${what}${tail.trim() ? `\n--- output (tail) ---\n${tail.trim()}` : ''}`);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { servers.delete(child); resolve({ code, signal }); }));

  let nextId = 1;
  const pending = new Map();
  let onListening;
  child.on('message', (msg) => {
    if (msg?.type === 'listening') return onListening?.(msg.port);
    const p = pending.get(msg?.id);
    if (p) { pending.delete(msg.id); p(msg); }
  });
  const raceExit = (promise, what) => Promise.race([
    promise,
    exited.then(({ code, signal }) => { throw fail(`exited (code ${code}, signal ${signal}) ${what}`); }),
  ]);
  const withTimeout = (promise, ms, what) => {
    let timer;
    return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(fail(what)), ms); })])
      .finally(() => clearTimeout(timer));
  };
  /** Requests served so far, counted by the server (test/bench/apps/control.mjs). */
  const served = () => withTimeout(raceExit(new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, (m) => resolve(m.requests));
    child.send({ id, type: 'snapshot' });
  }), 'during a snapshot'), CONTROL_TIMEOUT_MS, 'gave no snapshot');

  try {
    const port = await withTimeout(raceExit(new Promise((resolve) => { onListening = resolve; }), 'before listening'),
      LISTEN_TIMEOUT_MS, `not listening after ${LISTEN_TIMEOUT_MS / 1000} s`);
    const { pid } = child; // valgrind runs node in its own process: this is the pid callgrind_control wants
    const load = async (amount) => {
      const r = await raceExit(runLoad({ port, mode: 'mix', connections, amount, maxMs: 30 * 60_000 }), 'under load');
      if (r.errors || r.timeouts || r.total !== amount) {
        throw fail(`load job: ${r.total}/${amount} requests, ${r.errors} errors, ${r.timeouts} timeouts`);
      }
    };
    const s0 = await served();
    const tw = Date.now();
    if (warmup) await load(warmup);
    log?.(`    listening after ${((tw - t0) / 1000).toFixed(1)} s, warm-up ${((Date.now() - tw) / 1000).toFixed(1)} s`);
    await callgrindControl(['-i', 'on', String(pid)]);
    const irTotal = [];
    const jitTotal = [];
    const gcTotal = [];
    for (let w = 1; w <= windows; w++) {
      const tm = Date.now();
      await load(requests);
      await callgrindControl(['-d', String(pid)]); // dumps this window's costs and zeroes the counters
      const { total, jit, gc } = await readDump(`${outFile}.${w}`);
      irTotal.push(total);
      jitTotal.push(jit);
      gcTotal.push(gc);
      log?.(`    window ${w}: ${requests} requests, ${(total / requests / 1e3).toFixed(1)} k Ir/request, JIT compile ${(jit / requests / 1e3).toFixed(1)} k, GC ${(gc / requests / 1e3).toFixed(1)} k (${((Date.now() - tm) / 1000).toFixed(1)} s)`);
    }
    await callgrindControl(['-i', 'off', String(pid)]);
    const servedCount = (await served()) - s0;
    const expected = warmup + windows * requests;
    if (servedCount !== expected) throw fail(`served ${servedCount} requests, expected ${expected}`);
    const perRequest = (xs) => xs.map((ir) => ir / requests);
    return { irTotal, irPerRequest: perRequest(irTotal), jitPerRequest: perRequest(jitTotal), gcPerRequest: perRequest(gcTotal), served: servedCount, wallMs: Date.now() - t0 };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
