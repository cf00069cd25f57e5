/**
 * How a run reads for a person (`sync`, `approve`, `apply`) and as one JSON object (`--json`).
 * The human summary is bounded whatever the size of the run: totals by kind, then the first
 * LIST_LIMIT of each list and "… and N more"; the journal has every op.
 */
import type { SyncResult } from '../app/sync.js';
import { entityOf } from '../app/sync.js';
import type { Op } from '../domain/plan.js';

export const LIST_LIMIT = 20;

/** Which command ran: the header says so, since approve and apply apply what another run chose. */
export type RunCommand = { readonly name: 'sync' } | { readonly name: 'approve'; readonly fromRunId: string } | { readonly name: 'apply'; readonly planFile: string };

export interface SummaryInput extends SyncResult {
  readonly journalPath?: string;
  /** Connect calls the run made (counted by the composition root); unknown when absent. */
  readonly connectCalls?: number;
}

function opLine(op: Op, outcome: string) {
  return { id: op.id, kind: op.kind, target: entityOf(op), reason: op.reason, outcome };
}

export function toJson(r: SummaryInput) {
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
    skipped: r.skipped,
    ...(r.connectCalls === undefined ? {} : { connectCalls: r.connectCalls }),
    ...(summary.error ? { error: summary.error } : {}),
  };
}

/**
 * `title (N):` then at most LIST_LIMIT lines, then "… and N more". Only the lines shown are
 * formatted: a first sync of 100k users has 600k ops, and a line for each cost a second and 150 MB.
 */
function bounded<T>(lines: string[], title: string, items: readonly T[], format: (item: T) => string, more: string): void {
  if (items.length === 0) return;
  lines.push(`  ${title} (${items.length}):`);
  for (const item of items.slice(0, LIST_LIMIT)) lines.push(`    ${format(item)}`);
  if (items.length > LIST_LIMIT) lines.push(`    … and ${items.length - LIST_LIMIT} more (${more})`);
}

function header(r: SummaryInput, command: RunCommand): string {
  const { summary } = r;
  const what = `${summary.mode} run${summary.dryRun ? ' (dry run)' : ''} ${summary.status} in ${(summary.durationMs / 1000).toFixed(1)} s`;
  switch (command.name) {
    case 'sync':
      return `ud-bridge sync ${summary.runId}: ${what}`;
    case 'approve':
      return `ud-bridge approve ${command.fromRunId}: applying what run ${command.fromRunId} held back, re-checked now — run ${summary.runId}: ${what}`;
    case 'apply':
      return `ud-bridge apply ${command.planFile}: applying exactly that saved plan — run ${summary.runId}: ${what}`;
  }
}

export function toHuman(r: SummaryInput, command: RunCommand = { name: 'sync' }): string {
  const { summary } = r;
  const lines: string[] = [header(r, command)];
  const inJournal = `all in \`ud-bridge journal --run ${summary.runId}\``;
  const sc = summary.sourceCounts;
  if (sc.companies !== undefined) lines.push(`  source: ${sc.companies} companies, ${sc.users} users, ${sc.roleAssignments} role assignments, ${sc.issues ?? 0} bad rows`);
  if (r.connectCalls !== undefined && r.plan) {
    if (r.connectCalls === 0 && summary.mode === 'delta') {
      lines.push('  connect: no calls — a delta run trusts the local state of what earlier runs applied; `sync --full` re-reads Connect');
    } else lines.push(`  connect: ${r.connectCalls} call(s)`);
  }
  if (summary.error) lines.push(`  error: ${summary.error.message}`);

  const planned = r.plan?.ops ?? [];
  const held = r.plan?.held ?? [];
  // Only a run that got as far as planning, and found nothing, may say Connect matches.
  const nothingToDo = r.plan !== null && planned.length === 0 && held.length === 0 && summary.status === 'succeeded';
  if (nothingToDo) lines.push(command.name === 'sync' ? '  no changes: Connect already matches the directory' : '  nothing applied: none of the chosen ops is still wanted (see op.skipped in the journal)');

  if (summary.dryRun) {
    bounded(lines, 'would apply', planned, (op) => `${op.kind} ${entityOf(op).key}: ${op.reason}`, 'the whole plan: `sync --dry-run --json`');
    bounded(lines, 'would hold for approval', held, (h) => `${h.op.id}: ${h.op.reason}`, 'the whole plan: `sync --dry-run --json`');
  } else if (r.plan) {
    const kinds = Object.entries(summary.counts);
    if (kinds.length) {
      lines.push('  changes by kind:');
      for (const [kind, c] of kinds) {
        const linked = c.linked ? ` (${c.applied - c.linked} new account(s), ${c.linked} existing account(s) linked)` : '';
        lines.push(`    ${kind.padEnd(28)} ${String(c.applied).padStart(4)} applied${linked}${c.failed ? `, ${c.failed} failed` : ''}${c.held ? `, ${c.held} held` : ''}`);
      }
    }
    const applied = r.results.filter((x) => x.outcome === 'created' || x.outcome === 'updated' || x.outcome === 'unchanged');
    const list = (kind: string, title: string, fmt: (op: Op, outcome: string) => string) =>
      bounded(lines, title, applied.filter((x) => x.op.kind === kind), (x) => fmt(x.op, x.outcome), inJournal);
    const after = (op: Op) => (op.after ?? {}) as Record<string, unknown>;
    list('tenant.create', 'tenants created', (op) => `${entityOf(op).key} ${String(after(op).name)}`);
    list('tenant.link', 'tenants linked', (op) => `${entityOf(op).key} → ${String(after(op).tenantId)} (${String(after(op).match)} match)`);
    list('user.create', 'accounts', (op, outcome) => `${entityOf(op).key} ${String(after(op).email)} (${outcome === 'created' ? 'new account' : 'existing account linked'})`);
    list('user.roles.set', 'roles set', (op) => `${entityOf(op).key}: ${((after(op).roles as string[]) ?? []).join(', ') || '(all revoked)'}`);
    list('user.app.unlink', 'accounts unlinked', (op) => `${entityOf(op).key}: ${op.reason}`);
    const failures = r.results.filter((x) => x.outcome === 'failed');
    if (failures.length === 0) lines.push('  failures: none');
    bounded(lines, 'failures', failures, (f) => `${f.op.id}: ${f.error?.message ?? ''}`, inJournal);
    const notTried = r.results.filter((x) => x.outcome === 'skipped');
    bounded(lines, 'not attempted', notTried, (x) => `${x.op.id}: ${x.skippedBecause ?? x.error?.message ?? ''}`, inJournal);
    if (held.length) {
      bounded(lines, 'held by the safety gate', held, (h) => `${h.op.id}: ${h.op.reason}`, inJournal);
      lines.push(`  review, then \`ud-bridge approve ${summary.runId}\` (or approve it on the daemon's status page)`);
    }
  }
  bounded(lines, 'not synced (see the journal)', r.plan?.problems ?? [], (p) => `${p.entity.type}:${p.entity.key} ${p.field}: ${p.message}`, inJournal);
  bounded(lines, 'left out of Connect', r.skipped, (s) => `${s.entity.type}:${s.entity.key}: ${s.reason}`, '`ud-bridge explain user:KEY` says why for one');
  if (r.journalPath) lines.push(`  journal: ${r.journalPath}`);
  return lines.join('\n');
}
