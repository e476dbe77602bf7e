#!/usr/bin/env node
// The project's benchmark (`npm run bench`): bare express vs our preload vs the peers, in separate
// server processes, loaded from another process. Flags: --help (lib/options.mjs).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { environmentInfo } from './lib/env-info.mjs';
import { stopLoad } from './lib/load.mjs';
import { loadAverage } from './lib/machine.mjs';
import { parseOptions, USAGE } from './lib/options.mjs';
import { getPinning, installCleanup, killAll } from './lib/procs.mjs';
import { renderReport } from './lib/report.mjs';
import { ROOT, selectVariants } from './lib/variants.mjs';
import { memoryPhase } from './phases/memory.mjs';
import { scrapePhase } from './phases/scrape.mjs';
import { startupPhase } from './phases/startup.mjs';
import { throughputPhase } from './phases/throughput.mjs';

// Whole-run ceiling, so a wedged child can never hold CI or a terminal forever.
const WATCHDOG_MS = { smoke: 170_000, full: 40 * 60_000 };

const log = (line) => console.log(line);

async function main() {
  const argv = process.argv.slice(2);
  let opts;
  try {
    opts = parseOptions(argv);
  } catch (e) {
    console.error(e.message);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  installCleanup();
  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog: run exceeded ${(opts.smoke ? WATCHDOG_MS.smoke : WATCHDOG_MS.full) / 1000} s, aborting`);
    killAll();
    process.exit(1);
  }, opts.smoke ? WATCHDOG_MS.smoke : WATCHDOG_MS.full);
  watchdog.unref();

  const t0 = performance.now();
  const env = environmentInfo(); // before pinning: nproc must describe the machine, not our affinity
  const { selected: variants, skipped } = selectVariants(opts.only);
  for (const s of skipped) log(`bench: skipping ${s.name}: ${s.reason}`);
  const pinning = getPinning();
  log(`bench: ${variants.map((v) => v.name).join(', ')}; pinning: ${pinning.enabled ? pinning.reason : `off (${pinning.reason})`}`);

  const failures = [];
  const results = { startup: {}, throughput: [], scrape: {}, memory: {} };
  const phases = {
    startup: startupPhase, throughput: throughputPhase, scrape: scrapePhase, memory: memoryPhase,
  };
  try {
    for (const phase of ['startup', 'throughput', 'scrape', 'memory']) {
      if (!opts.phases.includes(phase)) continue;
      const p0 = performance.now();
      log(`bench: ${phase}...`);
      results[phase] = await phases[phase](variants, opts, failures, log);
      log(`bench: ${phase} done in ${((performance.now() - p0) / 1000).toFixed(1)} s`);
    }
  } finally {
    stopLoad();
  }

  const report = renderReport({
    ...results, env: { ...env, loadAverageEnd: loadAverage() }, opts, argv, pinning, variants, skipped, failures,
    wallSec: (performance.now() - t0) / 1000,
  });
  console.log(`\n${report}`);
  if (opts.write) {
    const out = resolve(ROOT, opts.out);
    writeFileSync(out, report);
    log(`bench: wrote ${out}`);
  }
  if (failures.length) {
    console.error(`bench: ${failures.length} failure(s)`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => { killAll(); process.exit(code); },
  (err) => { console.error(err); killAll(); process.exit(1); },
);
