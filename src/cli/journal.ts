/**
 * `ud-bridge journal [--run ID|--last] [--since 24h|7d|ISO] [--level warn] [--entity user:KEY]
 * [--type op.failed] [--json] [--follow]`: what ud-bridge did and why, for an administrator.
 * Events are streamed as they are read (a journal can be large), one line each; a bad line in a
 * file is reported on stderr and skipped.
 */
import { Command } from 'commander';
import { printable } from '../domain/text.js';
import { UdBridgeError, UsageError } from '../errors.js';
import type { JournalEvent, JournalLevel, SkippedPart } from '../journal/events.js';
import { followJournal } from '../journal/follow.js';
import { entityOf, LEVEL_RANK, readJournal, type BadLine, type JournalQuery } from '../journal/reader.js';
import type { ActionWrapper } from './generate.js';
import { outputClosed } from './broken-pipe.js';
import { ExitCode, type CommandResult } from './result.js';

export interface JournalCommandDeps {
  /** The configured journal folder, resolved when the command runs (after config loading). */
  /** The journal folder of the config at this path (or the default config). */
  readonly journalDir: (configPath?: string) => string;
  readonly out?: NodeJS.WritableStream;
  readonly err?: NodeJS.WritableStream;
  readonly now?: () => Date;
  /** Ends --follow; without it SIGINT/SIGTERM do. */
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
}

export interface JournalFlags {
  readonly run?: string;
  readonly last?: boolean;
  readonly since?: string;
  readonly level?: string;
  readonly entity?: string;
  readonly type?: string;
  readonly json?: boolean;
  readonly follow?: boolean;
  readonly config?: string;
}

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseSince(raw: string, now: Date): Date {
  const relative = /^(\d+)([mhdw])$/.exec(raw.trim());
  if (relative !== null) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!]!);
  // Only ISO-like text: Date.parse accepts odd forms ("1") that would silently mean something else.
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw.trim()) ? Date.parse(raw.trim()) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`journal: --since must be a duration like 30m, 24h, 7d, 2w or an ISO time like 2025-03-01T08:00Z; got '${raw}'`);
  return new Date(ms);
}

export function parseJournalFlags(flags: JournalFlags, now: Date): Omit<JournalQuery, 'dir' | 'onBadLine'> {
  if (flags.run !== undefined && flags.last === true) throw new UsageError('journal: give --run or --last, not both');
  if (flags.level !== undefined && !(flags.level in LEVEL_RANK)) throw new UsageError(`journal: --level must be debug, info, warn or error; got '${flags.level}'`);
  if (flags.entity !== undefined && !/^[A-Za-z]+:\S+$/.test(flags.entity)) throw new UsageError(`journal: --entity must look like user:U001 or company:C100; got '${flags.entity}'`);
  return {
    ...(flags.run === undefined ? {} : { runId: flags.run }),
    ...(flags.last === true ? { last: true } : {}),
    ...(flags.since === undefined ? {} : { since: parseSince(flags.since, now) }),
    ...(flags.level === undefined ? {} : { level: flags.level as JournalLevel }),
    ...(flags.entity === undefined ? {} : { entity: flags.entity }),
    ...(flags.type === undefined ? {} : { type: flags.type }),
  };
}

/**
 * One line per event: a message's own line breaks read as " / ", and any other control character
 * (or a bidi override) is shown escaped, so no text in an event can start a line of its own.
 */
function flat(text: string): string {
  return printable(text.replace(/\s*[\r\n]+\s*/g, ' / '));
}

/** What a source issue cost, as the journal line's outcome. Events written before `skipped` existed were rows. */
const SKIPPED_OUTCOME: Readonly<Record<SkippedPart, string>> = {
  row: 'row skipped',
  role: 'role skipped',
  module: 'module skipped',
  'layout group': 'layout group skipped',
  link: 'not linked',
  nothing: 'nothing skipped, left as it is',
};

function describe(e: JournalEvent): { text: string; outcome: string } {
  switch (e.type) {
    case 'run.started':
      return { text: `${e.mode} run (${e.trigger}${e.dryRun ? ', dry run' : ''}) from ${e.source}`, outcome: '' };
    case 'run.finished': {
      const totals = Object.values(e.counts).reduce((t, c) => ({ applied: t.applied + c.applied, failed: t.failed + c.failed, held: t.held + c.held }), { applied: 0, failed: 0, held: 0 });
      const error = e.error === undefined ? '' : ` ${e.error.code}: ${e.error.message}`;
      return { text: `${totals.applied} applied, ${totals.failed} failed, ${totals.held} held in ${e.durationMs} ms${error}`, outcome: e.status };
    }
    case 'run.skipped':
      return { text: `${e.mode} run: ${e.reason}`, outcome: 'skipped' };
    case 'op.applied':
      // Add user that found an account with the email linked it: not a new account.
      return { text: `${e.kind}: ${e.reason}`, outcome: e.kind === 'user.create' && e.outcome === 'updated' ? 'existing account linked' : e.outcome };
    case 'op.failed':
      return { text: `${e.kind}: ${e.reason}`, outcome: `failed ${e.error.code}: ${e.error.message}` };
    case 'op.held':
      return { text: `${e.kind}: ${e.reason}`, outcome: `held (${e.gate})` };
    case 'op.skipped':
      return { text: `${e.kind}: ${e.reason}`, outcome: 'skipped' };
    case 'source.issue':
      return { text: `${e.field}: ${e.message}`, outcome: SKIPPED_OUTCOME[e.skipped ?? 'row'] };
    case 'source.skipped':
      return { text: e.reason, outcome: 'not in Connect' };
    case 'source.anomaly':
      return { text: `${e.check}: ${e.message}`, outcome: 'paused' };
    case 'drift':
      return { text: `${e.field}: ${e.message}`, outcome: 'drift' };
    case 'webhook.rejected':
      return { text: `from ${e.sender.address}${e.sender.forwardedFor === undefined ? '' : ` (for ${e.sender.forwardedFor})`}: ${e.message}`, outcome: `${e.status} ${e.reason}` };
    case 'webhook.applied':
      return { text: `${e.event}: ${e.message}`, outcome: e.outcome };
    case 'webhook.dropped':
      return { text: `${e.event}: ${e.message}`, outcome: `dropped (${e.reason})` };
    case 'webhook.failed':
      return { text: `${e.event}: ${e.message}`, outcome: `failed ${e.error.code}: ${e.error.message}` };
    case 'profile.written':
      return { text: e.message, outcome: e.outcome };
    case 'profile.conflict':
      return { text: e.message, outcome: 'links unchanged' };
    default: {
      // A type written by a newer version: still show it rather than drop it.
      const unknown = e as { type: string; message?: unknown; reason?: unknown };
      return { text: String(unknown.message ?? unknown.reason ?? ''), outcome: '' };
    }
  }
}

/** `2025-03-01 10:00:00Z  WARN   op.held        user:U001        unlink: removed from VUD  → held (unlink > 10%)  [run r1]` */
export function formatEvent(e: JournalEvent): string {
  const time = `${e.ts.slice(0, 10)} ${e.ts.slice(11, 19)}Z`;
  const { text, outcome } = describe(e);
  // Keys are shown exactly, escaped: a key with a line break once forged an op.applied line here.
  const parts = [time, printable(e.level.toUpperCase()).padEnd(5), printable(e.type).padEnd(15), printable(entityOf(e) ?? '-').padEnd(16), flat(text)];
  return `${parts.join('  ')}${outcome === '' ? '' : `  → ${flat(outcome)}`}  [run ${printable(e.runId)}]`;
}

export async function journal(flags: JournalFlags, deps: JournalCommandDeps): Promise<CommandResult> {
  const now = deps.now ?? (() => new Date());
  const out = deps.out ?? process.stdout;
  const err = deps.err ?? process.stderr;
  const query: JournalQuery = {
    dir: deps.journalDir(flags.config),
    ...parseJournalFlags(flags, now()),
    onBadLine: (bad: BadLine) => err.write(`ud-bridge: journal ${bad.file} line ${bad.line} skipped: ${bad.message}\n`),
  };
  const print = (e: JournalEvent): void => {
    out.write(`${flags.json === true ? JSON.stringify(e) : formatEvent(e)}\n`);
  };

  if (flags.follow !== true) {
    let count = 0;
    for await (const e of readJournal(query)) {
      // `journal | head` closed the pipe: the reader has what it wanted.
      if (outputClosed(out)) return { exitCode: ExitCode.ok };
      print(e);
      count++;
    }
    if (count === 0 && flags.run !== undefined && !(await runExists(query.dir, flags.run))) {
      // A mistyped run id must not read as "that run did nothing".
      throw new UdBridgeError('NO_SUCH_RUN', `journal: there is no run ${flags.run} in ${query.dir} (\`ud-bridge status\` lists the last runs)`);
    }
    if (count === 0 && flags.json !== true) out.write(`No journal events match in ${query.dir}.\n`);
    return { exitCode: ExitCode.ok };
  }

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const signal = deps.signal ?? stop.signal;
  if (deps.signal === undefined) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  try {
    for await (const e of followJournal(query, { signal, ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }) })) {
      if (outputClosed(out)) break;
      print(e);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { exitCode: ExitCode.ok };
}

async function runExists(dir: string, runId: string): Promise<boolean> {
  for await (const _ of readJournal({ dir, runId })) return true;
  return false;
}

/** `wrap` is main.ts's runAction; main.ts passes the configured journal folder. */
export function journalCommand(deps: JournalCommandDeps, wrap: ActionWrapper): Command {
  return new Command('journal')
    .description('Show the event journal: what ud-bridge changed, held or could not do, and why')
    .option('-c, --config <file>', 'the config file whose journal folder to read')
    .option('--run <id>', 'only this run')
    .option('--last', 'only the most recent run')
    .option('--since <when>', 'only events since a duration ago (30m, 24h, 7d, 2w) or an ISO time')
    .option('--level <level>', 'minimum level: debug, info (the default), warn or error')
    .option('--entity <type:key>', 'only events about this object, e.g. user:U001 or company:C100')
    .option('--type <type>', 'only this event type (op.failed) or family (op)')
    .option('--json', 'one JSON object per line')
    .option('--follow', 'keep printing new events until Ctrl+C')
    .action(wrap((flags: JournalFlags) => journal(flags, deps)));
}
