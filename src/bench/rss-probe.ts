/**
 * Preloaded into a bench child (`node --import ./dist/bench/rss-probe.js …`): when the process
 * exits, its peak resident set size and CPU time are written as JSON to $UDB_BENCH_PROBE_OUT, so a
 * stage reports the memory of the whole process as a user would see it, not of the bench.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.UDB_BENCH_PROBE_OUT;
if (out) {
  process.once('exit', (code) => {
    const usage = process.resourceUsage();
    // maxRSS is in kilobytes.
    writeFileSync(out, JSON.stringify({ peakRssMb: usage.maxRSS / 1024, userCpuMs: usage.userCPUTime / 1000, systemCpuMs: usage.systemCPUTime / 1000, exitCode: code }));
  });
}
