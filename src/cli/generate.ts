/**
 * `ud-bridge generate [--seed N] [--users N] [--companies N] [--programs N] [--roles-per-user N]
 * [--group-size N] [--out F]`: a synthetic directory in the snapshot file format, for load tests
 * and demos. Written to stdout unless --out is given, so it pipes into other tools.
 */
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { UdBridgeError, UsageError } from '../errors.js';
import { formatSnapshotFile } from '../source/snapshot/to-file.js';
import { GENERATE_LIMITS, generateSnapshot, type GenerateOptions } from '../source/synthetic/generate.js';
import { ExitCode, type CommandResult } from './result.js';

/** main.ts's runAction: renders the result and turns errors into exit codes. */
export type ActionWrapper = <O>(action: (options: O) => Promise<CommandResult>) => (options: O) => Promise<void>;

export interface GenerateFlags {
  readonly seed?: string;
  readonly users?: string;
  readonly companies?: string;
  readonly programs?: string;
  readonly rolesPerUser?: string;
  readonly groupSize?: string;
  readonly out?: string;
}

const FLAGS = {
  seed: { flag: '--seed', fallback: 1 },
  users: { flag: '--users', fallback: 100 },
  companies: { flag: '--companies', fallback: 10 },
  programs: { flag: '--programs', fallback: 3 },
  rolesPerUser: { flag: '--roles-per-user', fallback: 2 },
  groupSize: { flag: '--group-size', fallback: 5 },
} as const;

function integer(name: keyof typeof FLAGS, raw: string | undefined): number {
  const { flag, fallback } = FLAGS[name];
  if (raw === undefined) return fallback;
  const { min, max } = GENERATE_LIMITS[name];
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`generate: ${flag} must be a whole number from ${min} to ${max}; got '${raw}'`);
  }
  return value;
}

export function parseGenerateFlags(flags: GenerateFlags): GenerateOptions {
  return {
    seed: integer('seed', flags.seed),
    users: integer('users', flags.users),
    companies: integer('companies', flags.companies),
    programs: integer('programs', flags.programs),
    rolesPerUser: integer('rolesPerUser', flags.rolesPerUser),
    groupSize: integer('groupSize', flags.groupSize),
  };
}

export async function generate(flags: GenerateFlags): Promise<CommandResult> {
  const options = parseGenerateFlags(flags);
  const snapshot = generateSnapshot(options);
  const text = formatSnapshotFile(snapshot);
  if (flags.out === undefined) return { exitCode: ExitCode.ok, human: text };
  try {
    await writeFile(flags.out, text, 'utf8');
  } catch (e) {
    throw new UdBridgeError('GENERATE_WRITE', `generate: could not write ${flags.out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      cause: e,
      details: { path: flags.out },
    });
  }
  const s = snapshot;
  return {
    exitCode: ExitCode.ok,
    human: `Wrote ${s.users.length} users, ${s.companies.length} companies, ${s.groups.length} company groups and ${s.roleAssignments.length} roles to ${flags.out} (seed ${options.seed}).`,
  };
}

export function generateCommand(wrap: ActionWrapper): Command {
  return new Command('generate')
    .description('Write a synthetic directory (seeded, reproducible) in the ud-bridge.snapshot/v1 JSON format')
    .option('--seed <n>', `PRNG seed; the same options always give the same file (default ${FLAGS.seed.fallback})`)
    .option('--users <n>', `number of users (default ${FLAGS.users.fallback})`)
    .option('--companies <n>', `number of companies (default ${FLAGS.companies.fallback})`)
    .option('--programs <n>', `programs out of VB, VDC, VR (default ${FLAGS.programs.fallback})`)
    .option('--roles-per-user <n>', `roles per user (default ${FLAGS.rolesPerUser.fallback})`)
    .option('--group-size <n>', `companies per company group, 0 for none (default ${FLAGS.groupSize.fallback})`)
    .option('--out <file>', 'write to this file instead of stdout')
    .action(wrap(generate));
}
