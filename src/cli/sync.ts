/**
 * `ud-bridge sync [--config F] [--dry-run] [--full] [--plan-out F] [--json] [--yes-destructive]`:
 * one run now. Parses flags, calls the sync service, and turns the result into a CommandResult:
 * a short human summary, or with --json one object with the counts and every op.
 */
import { Command } from 'commander';
import { writePlanFile } from '../app/plan-file.js';
import type { SyncResult } from '../app/sync.js';
import { entityOf } from '../app/sync.js';
import { exitCodeFor, type RunRequest } from '../domain/run.js';
import type { Op } from '../domain/plan.js';
import type { StateStore } from '../state/store.js';
import type { ActionWrapper } from './generate.js';
import type { CommandResult } from './result.js';

export interface SyncFlags {
  readonly config?: string;
  readonly dryRun?: boolean;
  readonly full?: boolean;
  readonly planOut?: string;
  readonly json?: boolean;
  readonly yesDestructive?: boolean;
}

/**
 * What the composition root provides: run once with the config at `configPath`, under the run
 * lock. The request may be built from the local state (approve reads what a run held).
 */
export type SyncService = (
  configPath: string | undefined,
  request: RunRequest | ((store: StateStore) => RunRequest),
) => Promise<SyncResult & { readonly journalPath: string; readonly dataDir: string }>;

export function syncCommand(service: SyncService, wrap: ActionWrapper): Command {
  return new Command('sync')
    .description('run one sync now: read the directory, plan, apply to Connect, journal')
    .option('-c, --config <file>', 'config file (default: $UD_BRIDGE_CONFIG or config/ud-bridge.yaml)')
    .option('--dry-run', 'plan only: print what would change and write nothing')
    .option('--full', 're-read Connect to find drift instead of trusting the local state')
    .option('--plan-out <file>', 'save the plan as JSON (for review, or `ud-bridge apply`)')
    .option('--json', 'print one JSON object instead of the summary')
    .option('--yes-destructive', 'lift the destructive-op safety gate for this run')
    .action(wrap((flags: SyncFlags) => sync(service, flags)));
}

export async function sync(service: SyncService, flags: SyncFlags): Promise<CommandResult> {
  const result = await service(flags.config, {
    mode: flags.full ? 'full' : 'delta',
    trigger: 'manual',
    dryRun: flags.dryRun ?? false,
    yesDestructive: flags.yesDestructive ?? false,
  });
  if (flags.planOut && result.plan) {
    await writePlanFile(flags.planOut, { runId: result.summary.runId, createdAt: result.summary.startedAt, plan: result.plan }, result.dataDir);
  }
  return {
    exitCode: exitCodeFor(result.summary.status),
    json: toJson(result),
    human: toHuman(result),
    asJson: flags.json ?? false,
  };
}

function opLine(op: Op, outcome: string) {
  return { id: op.id, kind: op.kind, target: entityOf(op), reason: op.reason, outcome };
}

export function toJson(r: SyncResult) {
  const { summary } = r;
  const ops = r.results.length
    ? r.results.map((x) => ({ ...opLine(x.op, x.outcome), ...(x.error ? { error: x.error } : {}), ...(x.skippedBecause ? { skippedBecause: x.skippedBecause } : {}) }))
    : (r.plan?.ops ?? []).map((op) => opLine(op, summary.dryRun ? 'planned' : 'skipped'));
  const held = (r.plan?.held ?? []).map((h) => ({ ...opLine(h.op, 'held'), gate: h.gate }));
  return {
    runId: summary.runId,
    mode: summary.mode,
    dryRun: summary.dryRun,
    status: summary.status,
    startedAt: summary.startedAt,
    durationMs: summary.durationMs,
    counts: summary.counts,
    sourceCounts: summary.sourceCounts,
    ops: [...ops, ...held],
    problems: r.plan?.problems ?? [],
    drift: r.plan?.drift ?? [],
    ...(summary.error ? { error: summary.error } : {}),
  };
}

export function toHuman(r: SyncResult & { readonly journalPath?: string }): string {
  const { summary } = r;
  const lines: string[] = [];
  const secs = (summary.durationMs / 1000).toFixed(1);
  lines.push(`ud-bridge sync ${summary.runId}: ${summary.mode} run${summary.dryRun ? ' (dry run)' : ''} ${summary.status} in ${secs} s`);
  const sc = summary.sourceCounts;
  if (sc.companies !== undefined) lines.push(`  source: ${sc.companies} companies, ${sc.users} users, ${sc.roleAssignments} role assignments, ${sc.issues ?? 0} bad rows`);
  if (summary.error) lines.push(`  error: ${summary.error.message}`);

  const planned = r.plan?.ops ?? [];
  if (summary.dryRun) {
    if (planned.length === 0 && !r.plan?.held.length) lines.push('  no changes: Connect already matches the directory');
    for (const op of planned) lines.push(`  would ${op.kind} ${entityOf(op).key}: ${op.reason}`);
  } else if (r.plan) {
    const applied = r.results.filter((x) => x.outcome === 'created' || x.outcome === 'updated' || x.outcome === 'unchanged');
    if (applied.length === 0 && r.results.length === 0 && !r.plan.held.length) lines.push('  no changes: Connect already matches the directory');
    const kinds = Object.entries(summary.counts);
    if (kinds.length) {
      lines.push('  changes by kind:');
      for (const [kind, c] of kinds) lines.push(`    ${kind.padEnd(28)} ${String(c.applied).padStart(4)} applied${c.failed ? `, ${c.failed} failed` : ''}${c.held ? `, ${c.held} held` : ''}`);
    }
    const show = (kind: string, title: string, fmt: (op: Op, outcome: string) => string) => {
      const these = applied.filter((x) => x.op.kind === kind);
      if (these.length) {
        lines.push(`  ${title}:`);
        for (const x of these) lines.push(`    ${fmt(x.op, x.outcome)}`);
      }
    };
    const after = (op: Op) => (op.after ?? {}) as Record<string, unknown>;
    show('tenant.create', 'tenants created', (op) => `${entityOf(op).key} ${String(after(op).name)}`);
    show('tenant.link', 'tenants linked', (op) => `${entityOf(op).key} → ${String(after(op).tenantId)} (${String(after(op).match)} match)`);
    show('user.create', 'accounts', (op, outcome) => `${entityOf(op).key} ${String(after(op).email)} (${outcome === 'created' ? 'new account' : 'existing account linked'})`);
    show('user.roles.set', 'roles set', (op) => `${entityOf(op).key}: ${((after(op).roles as string[]) ?? []).join(', ') || '(all revoked)'}`);
    const failures = r.results.filter((x) => x.outcome === 'failed');
    lines.push(failures.length ? `  failures (${failures.length}):` : '  failures: none');
    for (const f of failures) lines.push(`    ${f.op.id}: ${f.error?.message ?? ''}`);
    if (r.plan.held.length) lines.push(`  held by the safety gate: ${r.plan.held.length} op(s) — see the journal, then \`ud-bridge approve ${summary.runId}\``);
  }
  if (r.plan?.problems.length) lines.push(`  objects not synced (see the journal): ${r.plan.problems.length}`);
  if (r.journalPath) lines.push(`  journal: ${r.journalPath}`);
  return lines.join('\n');
}
