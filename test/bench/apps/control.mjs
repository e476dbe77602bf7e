// The harness's control channel into a server process. It is IPC, not HTTP: probes must not show
// up in the variant's own metrics nor cost anything on the request path.
import { performance } from 'node:perf_hooks';

const SAMPLE_MS = 2;

/**
 * Event-loop block sampler: a short interval timer whose lateness is the time the loop was busy.
 * It runs only between loop-start and loop-stop (around a scrape), so it never taxes throughput runs.
 */
function loopSampler() {
  let timer;
  let last = 0;
  let maxGap = 0;
  const tick = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last - SAMPLE_MS);
    last = now;
  };
  return {
    start() {
      clearInterval(timer);
      maxGap = 0;
      last = performance.now();
      timer = setInterval(tick, SAMPLE_MS);
    },
    stop() {
      clearInterval(timer);
      tick(); // a block just before stop has not been seen by a timer yet
      return Math.max(0, maxGap);
    },
  };
}

export function attachControl(server) {
  let requests = 0;
  // Counted by the server itself, so CPU per request divides by exactly the requests served in the window.
  server.on('request', () => { requests++; });
  if (!process.send) return;
  const sampler = loopSampler();
  process.on('message', (msg) => {
    const reply = (data) => process.send({ id: msg.id, ...data });
    if (msg.type === 'snapshot') {
      // 'last-resort' also shrinks the young generation and hands free pages back to the OS, so RSS
      // shows what the process retains, not how far V8's heap grew under load.
      if (msg.gc && globalThis.gc) globalThis.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      const mem = process.memoryUsage();
      reply({ cpu: process.cpuUsage(), requests, rss: mem.rss, heapUsed: mem.heapUsed, time: performance.now() });
    } else if (msg.type === 'loop-start') {
      sampler.start();
      reply({});
    } else if (msg.type === 'loop-stop') {
      reply({ maxBlockMs: sampler.stop() });
    }
  });
  // Never outlive the harness, even if it was killed without a chance to clean up.
  process.on('disconnect', () => process.exit(0));
}
