/**
 * `ud-bridge sim`: the Connect simulator on its own, until SIGINT/SIGTERM.
 */
import { Command } from 'commander';
import { describeError, UdBridgeError, UsageError } from '../errors.js';
// The simulator (Fastify) is loaded when the command runs, not by every command that starts the program.
import type { FaultSettings, SimOptions } from '../sim/index.js';
import { ExitCode, render, type CommandResult } from './result.js';

export interface SimFlags {
  readonly port?: string;
  readonly host?: string;
  readonly seed?: string;
  readonly state?: string;
  readonly tokenTtl?: string;
  readonly rateLimit?: string;
  readonly latencyMs?: string;
  readonly latencyJitterMs?: string;
  readonly faultRate?: string;
  readonly burst429Rate?: string;
  readonly dropRate?: string;
  readonly randomSeed?: string;
}

function num(flag: string, raw: string, ok: (n: number) => boolean, expected: string): number {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`${flag}: expected ${expected}, got '${raw}'`);
  return n;
}
const int = (flag: string, raw: string, min: number, max: number): number =>
  num(flag, raw, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer from ${min} to ${max}`);
const probability = (flag: string, raw: string): number => num(flag, raw, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');

/** Flags → options; a bad value is a UsageError naming the flag (exit 64). */
export function parseSimFlags(f: SimFlags): SimOptions {
  const faults: FaultSettings = {};
  if (f.latencyMs !== undefined) faults.latencyMs = int('--latency-ms', f.latencyMs, 0, 600_000);
  if (f.latencyJitterMs !== undefined) faults.latencyJitterMs = int('--latency-jitter-ms', f.latencyJitterMs, 0, 600_000);
  if (f.faultRate !== undefined) faults.errorRate = probability('--fault-rate', f.faultRate);
  if (f.burst429Rate !== undefined) faults.burst429Rate = probability('--burst-429-rate', f.burst429Rate);
  if (f.dropRate !== undefined) faults.dropRate = probability('--drop-rate', f.dropRate);
  const options: SimOptions = { faults };
  if (f.port !== undefined) options.port = int('--port', f.port, 0, 65_535);
  if (f.host !== undefined) options.host = f.host;
  if (f.seed !== undefined) options.seed = f.seed;
  if (f.state !== undefined) options.statePath = f.state;
  if (f.tokenTtl !== undefined) options.tokenTtlSeconds = int('--token-ttl', f.tokenTtl, 1, 31_536_000);
  if (f.rateLimit !== undefined) options.rateLimit = { perSecond: num('--rate-limit', f.rateLimit, (n) => n > 0, 'a number of requests per second > 0') };
  if (f.randomSeed !== undefined) options.randomSeed = int('--random-seed', f.randomSeed, 0, 2 ** 31 - 1);
  return options;
}

/** Runs until `signal` aborts; prints the one "listening" line to `out`. */
export async function runSim(flags: SimFlags, signal: AbortSignal, out: NodeJS.WritableStream = process.stdout): Promise<CommandResult> {
  const options = parseSimFlags(flags);
  const { defaultSeedPath, startSimulator } = await import('../sim/index.js');
  const sim = await startSimulator(options);
  out.write(`Connect simulator listening on ${sim.url} (seed: ${flags.seed ?? defaultSeedPath()}${flags.state ? `, state: ${flags.state}` : ''})\n`);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await sim.close();
  return { exitCode: ExitCode.ok, human: 'Connect simulator stopped' };
}

type Wrap = (action: (options: SimFlags) => Promise<CommandResult>) => (options: SimFlags) => Promise<void>;

/** Used only when no wrapper is given: the same rendering and exit codes as main.ts's runAction. */
const standalone: Wrap = (action) => async (options) => {
  try {
    process.exitCode = render(await action(options));
  } catch (e) {
    process.stderr.write(`ud-bridge: ${describeError(e).message}\n`);
    process.exitCode = e instanceof UdBridgeError ? e.exitCode : ExitCode.couldNotRun;
  }
};

export function simCommand(wrap: Wrap = standalone): Command {
  const run = wrap((flags) => {
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    return runSim(flags, stop.signal).finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
  });
  return new Command('sim')
    .description('Run the Visma Connect simulator on its own (token endpoint, /v1.0 API, /_sim admin routes)')
    .option('--port <n>', 'port to listen on (0 = any free port)', '4010')
    .option('--host <h>', 'address to bind', '127.0.0.1')
    .option('--seed <file>', 'seed JSON file (default: config/sim-seed.json)')
    .option('--state <file>', 'persist state to this JSON file and load it at start')
    .option('--token-ttl <s>', 'access-token lifetime in seconds')
    .option('--rate-limit <n>', 'requests per second per client (token bucket)')
    .option('--latency-ms <n>', 'added latency per API request')
    .option('--latency-jitter-ms <n>', 'random extra latency up to this')
    .option('--fault-rate <p>', 'chance of a 5xx answer (0-1)')
    .option('--burst-429-rate <p>', 'chance a request starts a burst of 429s (0-1)')
    .option('--drop-rate <p>', 'chance the connection is dropped without an answer (0-1)')
    .option('--random-seed <n>', 'seed of the fault PRNG (deterministic faults)')
    .action((options: SimFlags) => run(options));
}
