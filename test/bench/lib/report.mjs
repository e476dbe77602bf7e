// Renders all phase results as one markdown document (printed, and written to results.md).
import { fmt, median, signed } from './stats.mjs';
import { OURS_SCRAPE_CAP } from './variants.mjs';

const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (head, rows) => [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const perRound = (xs, d) => xs.map((x) => fmt(x, d)).join(' / ');

/** Per variant: its results per round, and ratio / added CPU against bare express of the same round. */
export function summariseThroughput(rounds, variants) {
  const out = {};
  for (const v of variants) {
    const runs = rounds.map((round) => ({ mine: round[v.name], bare: round.bare })).filter((x) => x.mine);
    if (!runs.length) continue;
    const paired = runs.filter((x) => x.bare);
    const ratios = paired.map((x) => x.mine.rps / x.bare.rps);
    const added = paired.map((x) => x.mine.cpuPerReq - x.bare.cpuPerReq);
    const pick = (k) => median(runs.map((x) => x.mine[k]));
    out[v.name] = {
      rounds: runs.length, ratios, added, ratio: median(ratios), addedCpu: median(added),
      rps: pick('rps'), p50: pick('p50'), p99: pick('p99'), cpuPerReq: pick('cpuPerReq'),
      busyPct: pick('busyPct'), otherPct: pick('otherPct'), otherMaxPct: Math.max(...runs.map((x) => x.mine.otherPct)), rssMB: pick('rssMB'), loadCpuPct: pick('loadCpuPct'),
    };
  }
  return out;
}

function throughputSection(r) {
  const s = summariseThroughput(r.throughput, r.variants);
  const rows = r.variants.filter((v) => s[v.name]).map((v) => {
    const x = s[v.name];
    return [v.name, fmt(x.rps), perRound(x.ratios, 2), `**${fmt(x.ratio, 2)}**`, fmt(x.p50, 1), fmt(x.p99, 1),
      fmt(x.cpuPerReq, 1), perRound(x.added, 1), `**${signed(x.addedCpu, 1)}**`, fmt(x.busyPct), fmt(x.loadCpuPct), `${fmt(x.otherPct)} (max ${fmt(x.otherMaxPct)})`, fmt(x.rssMB, 1)];
  });
  const o = r.opts;
  const other = median(Object.values(s).map((x) => x.otherPct));
  const waited = r.throughput.flatMap((round) => Object.values(round)).reduce((sum, x) => sum + x.settledMs, 0) / 1000;
  const warning = other > 15
    ? `\n\n**Disturbed run: other processes used ${fmt(other)}% of a core (median) during the measured windows; ratios are rough.**`
    : '';
  return [
    `## Throughput, latency, CPU per request`,
    `${o.rounds} interleaved rounds, variant order rotated each round; each run: ${o.warmupSec} s warm-up (excluded), ${o.durationSec} s measured, `
      + `timed against a fixed CPU task before and after (a run during which the machine itself ran over 25% slower than its best is run again: `
      + `${r.throughput.repeated ?? 0} repeated in this run); `
      + `${o.connections} connections; traffic cycles 7x \`/api/items/:id\`, \`/health\`, one 404. `
      + `Ratios and added CPU are against bare express **of the same round**; medians in bold. `
      + `"server busy" = server CPU time / wall time over the window (about 100% means the server, not the load generator, was the limit); `
      + `"other processes" = CPU the rest of the machine used during the window, in % of one core, median and worst round (anything well above 0 means the figures are disturbed). `
      + (o.settleSec ? `Before each run the harness waited up to ${o.settleSec} s for the rest of the machine to go quiet (waited ${fmt(waited)} s in all).` : '')
      + warning,
    '',
    table(['variant', 'req/s', 'vs bare, per round', 'vs bare', 'p50 ms', 'p99 ms', 'server CPU us/req',
      'added us/req, per round', 'added us/req', 'server busy %', 'load gen CPU %', 'other processes CPU %', 'RSS after load MB'], rows),
  ].join('\n');
}

function scrapeSection(r) {
  const rows = r.variants.filter((v) => r.scrape[v.name]).map((v) => {
    const x = r.scrape[v.name];
    const notes = [x.overflow ? 'overflow series present (series cap reached)' : ''].filter(Boolean).join('; ');
    return [v.name, fmt(x.requests), fmt(x.lines), fmt(x.bytes / 1024), fmt(x.firstMs, 1), fmt(x.ms, 1),
      fmt(x.usPerLine, 2), fmt(x.gzipMs, 1), fmt(x.maxBlockMs, 1), fmt(x.blockedScrapeCpuWaitMs, 1), `${x.routesSeen}/${r.opts.routes}`, fmt(x.heapBytesPerRequest),
      x.store ? `**${fmt(x.store.median, 1)}** (${perRound(x.store.runs, 1)}; ${fmt(x.store.storeOnly, 1)} before the scrape)` : '-', notes || '-'];
  });
  return [
    `## Scrape cost`,
    `${r.opts.routes} routes x 3 methods x 4 statuses driven once each, then one first scrape, ${r.opts.scrapes} timed plain scrapes `
      + `and ${r.opts.scrapes} gzip scrapes (what Prometheus sends; medians). Lines = sample lines (comments excluded); us/line = median plain scrape ms / lines. `
      + `Longest block = the largest event-loop stall seen inside the server (2 ms interval-timer drift) during any of those scrapes; `
      + `CPU wait = how long the server waited for a CPU during that scrape (schedstat): a block no longer than the wait is the machine's, not the server's. `
      + `Heap bytes per label set = heap used after a full GC once the traffic and the first scrape are done, less before the traffic, per driven request (one label set each); `
      + `it carries the HTTP traffic's leftovers and swings between runs. `
      + `Store bytes per label set (ours) = the same without HTTP: in a fresh \`node --expose-gc --predictable\` process, the variant's built store takes the same label sets `
      + `in the families a request records, then one full scrape into a discarding sink (filling any per-series render cache); heap after full GCs, less before, `
      + `per label set; median of 3 processes (each run), and the store alone before the scrape (lib/store-memory.mjs). `
      + `Ours run with PROMETHEUS_MAX_SERIES_PER_METRIC=${OURS_SCRAPE_CAP} so every series is kept, like prom-client (our default cap is 10000); `
      + `stock OTel keeps its default 2000-series cap.`,
    '',
    table(['variant', 'requests', 'exposition lines', 'body KB', 'first scrape ms', 'scrape ms', 'us per line', 'gzip scrape ms',
      'longest loop block ms', 'CPU wait in that scrape ms', 'routes in exposition', 'heap bytes per label set', 'store bytes per label set', 'notes'], rows),
  ].join('\n');
}

function startupSection(r) {
  const bare = median(r.startup.bare ?? []);
  const rows = r.variants.filter((v) => r.startup[v.name]?.length).map((v) => {
    const m = median(r.startup[v.name]);
    return [v.name, fmt(m), v.name === 'bare' ? '-' : signed(m - bare), r.startup[v.name].map((x) => fmt(x)).join(' / ')];
  });
  return [
    `## Startup`,
    `Spawn to "listening" (app port), ${r.opts.startupReps} spawns per variant, interleaved, after one discarded spawn each.`,
    '',
    table(['variant', 'median ms', 'added vs bare ms', 'samples ms'], rows),
  ].join('\n');
}

function memorySection(r) {
  const o = r.opts;
  const rows = r.variants.filter((v) => r.memory[v.name]).map((v) => {
    const x = r.memory[v.name];
    return [v.name, fmt(x.requests), fmt(x.rssFirstMB, 1), fmt(x.rssMB, 1), signed(x.growthMB, 1), signed(x.heapGrowthMB, 1), fmt(x.rps)];
  });
  return [
    `## Memory under unknown URLs`,
    `Each request is a new unmatched URL (\`/unknown/<10 random letters>\`), ${o.connections} connections. `
      + `RSS and heap read after a forced last-resort GC, which also returns free pages to the OS (server run with --expose-gc), after the first ${o.memFirst} requests and after all ${o.memRequests}.`,
    '',
    table(['variant', 'requests', `RSS after ${o.memFirst} MB`, `RSS after ${o.memRequests} MB`, 'RSS growth MB', 'heap growth MB', 'req/s'], rows),
  ].join('\n');
}

/** The bars from design.md section 3, judged against this run's figures. */
function goalsSection(r) {
  const lines = [];
  const verdict = (ok) => (ok ? 'met' : '**not met**');
  const tp = r.throughput.length ? summariseThroughput(r.throughput, r.variants) : {};
  const ours = r.variants.filter((v) => v.ours);
  if (!ours.length) return `## Goals (design.md section 3)\nOur variants were not run: ${r.skipped.map((s) => s.reason).join('; ') || 'excluded by --only'}.`;
  const peer = tp['prom-client'];
  for (const v of ours) {
    const mine = tp[v.name];
    if (mine && peer) {
      lines.push(`- CPU, ${v.name}: adds ${signed(mine.addedCpu, 1)} us/req vs prom-client's ${signed(peer.addedCpu, 1)} us/req `
        + `(goal: no more): ${verdict(mine.addedCpu <= peer.addedCpu)}; throughput ${fmt(mine.ratio, 3)} of bare `
        + `(prom-client ${fmt(peer.ratio, 3)}; goal: at least 0.93): ${verdict(mine.ratio >= 0.93)}`);
    }
    const sc = r.scrape[v.name];
    const pc = r.scrape['prom-client'];
    if (sc && pc) {
      lines.push(`- Scrape, ${v.name}: ${fmt(sc.usPerLine, 2)} us/line vs prom-client's ${fmt(pc.usPerLine, 2)} (goal: at most half): `
        + `${verdict(sc.usPerLine <= pc.usPerLine / 2)}; longest loop block ${fmt(sc.maxBlockMs, 1)} ms (prom-client ${fmt(pc.maxBlockMs, 1)} ms; `
        + `goal: at most 50 ms): ${verdict(sc.maxBlockMs <= 50)}`);
    }
    const st = r.startup[v.name];
    if (st?.length && r.startup.bare?.length) {
      const added = median(st) - median(r.startup.bare);
      lines.push(`- Startup, ${v.name}: adds ${signed(added)} ms (goal: at most +100 ms): ${verdict(added <= 100)}`);
    }
    const mem = r.memory[v.name];
    if (mem) {
      // A run shorter than 1M requests cannot show a slow leak in RSS; the retained JS heap is
      // steady, and its linear extrapolation to 1M requests can.
      const n = r.opts.memRequests - r.opts.memFirst;
      const heapPer1M = (mem.heapGrowthMB * 1_000_000) / n;
      const measured1M = r.opts.memRequests >= 1_000_000;
      const ok = mem.growthMB <= 10 && (measured1M || heapPer1M <= 10);
      lines.push(`- Memory, ${v.name}: RSS ${signed(mem.growthMB, 1)} MB, heap ${signed(mem.heapGrowthMB, 1)} MB over ${n} unknown URLs `
        + `after the first ${r.opts.memFirst}${measured1M ? '' : ` (heap extrapolated to 1M: ${signed(heapPer1M, 1)} MB; --mem-requests=1000000 measures it)`} `
        + `(goal: 1M requests within 10 MB): ${verdict(ok)}`);
    }
  }
  return [`## Goals (design.md section 3)`, ...lines].join('\n');
}

export function renderReport(r) {
  const e = r.env;
  const o = r.opts;
  const legend = r.variants.map((v) => `- \`${v.name}\`: ${v.label}`);
  const parts = [
    `# Benchmark results${o.smoke ? ' (smoke run: figures are not meaningful)' : ''}`,
    '',
    `- Date: ${e.date}`,
    `- Node ${e.node}, ${e.platform}`,
    `- nproc ${e.nproc}, CPU: ${e.cpu}; load average ${e.loadAverage} at start, ${e.loadAverageEnd} at end`,
    `- CPU pinning: ${r.pinning.enabled ? r.pinning.reason : `off (${r.pinning.reason})`}`,
    `- ${e.project}; ${e.packages.join(', ')}`,
    `- Load: autocannon in its own process; every server binds 127.0.0.1; wall time of this run ${fmt(r.wallSec)} s`,
    `- Command: \`node test/bench/run.mjs ${r.argv.join(' ')}\``.replace(/ `$/, '`'),
    '',
    `Variants:`,
    ...legend,
    ...r.skipped.map((s) => `- \`${s.name}\`: **skipped**, ${s.reason}`),
  ];
  if (o.phases.includes('throughput')) parts.push('', throughputSection(r));
  if (o.phases.includes('scrape')) parts.push('', scrapeSection(r));
  if (o.phases.includes('startup')) parts.push('', startupSection(r));
  if (o.phases.includes('memory')) parts.push('', memorySection(r));
  parts.push('', goalsSection(r));
  if (r.failures.length) {
    parts.push('', '## Failures', ...r.failures.map((f) => `- ${f.phase} / ${f.variant}: ${f.message.split('\n')[0]}`));
  }
  return `${parts.join('\n')}\n`;
}
