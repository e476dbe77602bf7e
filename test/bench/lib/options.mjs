// Command-line flags. Defaults are sized so a full run stays under 10 minutes on 2 cores;
// --smoke shrinks everything to a few seconds per phase and writes no results.
export const USAGE = `usage: node test/bench/run.mjs [flags]
  --smoke               tiny run (1 round, short loads, few routes); writes nothing; exit 1 on any failure
  --rounds=N            interleaved throughput rounds (default 8)
  --duration=S          measured seconds per throughput run (default 4)
  --warmup=S            warm-up seconds before each measured run, excluded from figures (default 2)
  --connections=N       load generator connections (default 32)
  --settle=S            before each throughput run, wait up to S s for other processes to go quiet (default 5; 0 = off)
  --only=a,b            variants to run (bare is always included): bare, ours-fast, ours-noruntime, ours-otel,
                        ours-baseline (with BENCH_BASELINE=<a built checkout>),
                        prom-client, prom-bundle, otel-stock
  --phases=a,b          startup,throughput,scrape,memory (default all)
  --routes=N            scrape phase: distinct routes, x3 methods x4 statuses (default 2000)
  --scrapes=N           scrape phase: timed scrapes per variant after a first one (default 5)
  --startup-reps=N      startup phase: spawns per variant (default 5)
  --mem-requests=N      memory phase (ours-fast only): unknown-URL requests (default 1000000)
  --mem-first=N         memory phase: checkpoint compared against (default 10000)
  --out=PATH            markdown output (default test/bench/results.md); --no-write to skip`;

const PHASES = ['startup', 'throughput', 'scrape', 'memory'];

const DEFAULTS = {
  smoke: false, rounds: 8, durationSec: 4, warmupSec: 2, connections: 32, only: null, phases: PHASES,
  settleSec: 5, routes: 2000, scrapes: 5, startupReps: 5, memRequests: 1_000_000, memFirst: 10_000, out: 'test/bench/results.md', write: true,
};

const SMOKE = {
  smoke: true, settleSec: 0, rounds: 1, durationSec: 1, warmupSec: 0.5, routes: 20, scrapes: 2, startupReps: 1,
  memRequests: 1500, memFirst: 500, write: false,
};

const NUMERIC = {
  rounds: ['rounds', 1], duration: ['durationSec', 0.1], warmup: ['warmupSec', 0], connections: ['connections', 1], settle: ['settleSec', 0],
  routes: ['routes', 1], scrapes: ['scrapes', 1], 'startup-reps': ['startupReps', 1],
  'mem-requests': ['memRequests', 2], 'mem-first': ['memFirst', 1],
};

export function parseOptions(argv) {
  const flags = new Map();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    flags.set(m[1], m[2]);
  }
  if (flags.has('help')) return { help: true };
  // --smoke sets the preset; explicit flags still override it.
  const opts = { ...DEFAULTS, ...(flags.has('smoke') ? SMOKE : {}) };
  for (const [name, value] of flags) {
    if (name === 'smoke') continue;
    if (name === 'no-write') { opts.write = false; continue; }
    if (name === 'out') { opts.out = value; opts.write = true; continue; }
    if (name === 'only') { opts.only = value.split(',').map((s) => s.trim()).filter(Boolean); continue; }
    if (name === 'phases') {
      opts.phases = value.split(',').map((s) => s.trim());
      const bad = opts.phases.filter((p) => !PHASES.includes(p));
      if (bad.length) throw new Error(`unknown phase ${bad.join(', ')} (known: ${PHASES.join(', ')})`);
      continue;
    }
    const spec = NUMERIC[name];
    if (!spec) throw new Error(`unknown flag --${name}\n${USAGE}`);
    const n = Number(value);
    if (!Number.isFinite(n) || n < spec[1]) throw new Error(`--${name} needs a number >= ${spec[1]}`);
    opts[spec[0]] = spec[0] === 'durationSec' || spec[0] === 'warmupSec' ? n : Math.floor(n);
  }
  if (opts.memFirst >= opts.memRequests) throw new Error('--mem-first must be below --mem-requests');
  return opts;
}
