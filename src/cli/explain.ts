/**
 * `ud-bridge explain user:KEY | company:KEY [--json]`: why an object is (or is not) in Connect as
 * it is — the VUD rows and scope rule behind it, every role with the assignment it comes from,
 * what Connect has, the ops the next run would make, and its last journal events.
 */
import { Command } from 'commander';
import type { ExplainReport } from '../app/explain.js';
import { entityOf } from '../app/sync.js';
import { UsageError } from '../errors.js';
import { parseObjectRef, type ObjectRef } from '../plan/explain.js';
import type { ActionWrapper } from './generate.js';
import { formatEvent } from './journal.js';
import { ExitCode, type CommandResult } from './result.js';

export type ExplainService = (configPath: string | undefined, ref: ObjectRef) => Promise<ExplainReport>;

export function renderExplanation(r: ExplainReport): string {
  const lines: string[] = [`ud-bridge explain ${r.ref.type}:${r.ref.key}`, `  ${r.verdict}`, ''];
  lines.push('In VUD (the directory):');
  if (r.source === null) lines.push('  (not in the directory)');
  else for (const [k, v] of Object.entries(r.source)) lines.push(`  ${k.padEnd(18)} ${v}`);
  lines.push(`  ${'scope'.padEnd(18)} ${r.scope}`);
  lines.push('', 'Wanted in Connect:');
  if (!r.wanted.inConnect) lines.push(`  nothing${r.wanted.reason ? `: ${r.wanted.reason}` : ''}`);
  for (const a of r.wanted.applications) lines.push(`  application ${a.applicationId}  ← program ${a.program} enabled for ${r.ref.key}`);
  for (const g of r.wanted.grants) {
    lines.push(`  ${g.companyKey} / ${g.applicationId}`);
    for (const role of g.roles) lines.push(`    ${role.role.padEnd(24)} ← ${role.from.join('; ') || '(no VUD row found)'}`);
  }
  if (r.wanted.unused.length) {
    lines.push('  VUD rows that give nothing in Connect:');
    for (const u of r.wanted.unused) lines.push(`    ${u.row} — ${u.why}`);
  }
  if (r.wanted.issues.length) {
    lines.push('  issues in its rows:');
    for (const i of r.wanted.issues) lines.push(`    ${i.field}: ${i.message}`);
  }
  lines.push('', "What Connect has (ud-bridge's local state; a full run re-reads it):");
  if (r.connect.connectId === undefined) lines.push(`  no ${r.ref.type === 'user' ? 'account' : 'tenant'} linked`);
  else lines.push(`  ${r.ref.type === 'user' ? 'account' : 'tenant'} ${r.connect.connectId}${r.ref.type === 'user' ? (r.connect.linked ? ', linked to ud-bridge' : ', not linked to ud-bridge') : ''}`);
  for (const [app, status] of Object.entries(r.connect.applications)) lines.push(`  application ${app}: ${status}`);
  for (const g of r.connect.grants) lines.push(`  ${g.companyKey} / ${g.applicationId}: ${g.roles.join(', ')}`);
  lines.push('', 'The next run would:');
  if (r.connectNote) lines.push(`  (${r.connectNote})`);
  if (!r.nextRun.ops.length && !r.nextRun.held.length) lines.push('  change nothing for it');
  for (const op of r.nextRun.ops) lines.push(`  ${op.kind} ${entityOf(op).key}: ${op.reason}`);
  for (const h of r.nextRun.held) lines.push(`  hold ${h.op.kind} ${entityOf(h.op).key} for approval (${h.gate}): ${h.op.reason}`);
  for (const p of r.nextRun.problems) lines.push(`  not do: ${p.message}`);
  for (const d of r.nextRun.drift) lines.push(`  report drift ${d.field}: ${d.message}`);
  lines.push('', 'Last journal events:');
  if (!r.events.length) lines.push('  (none in the last 30 days)');
  for (const e of r.events) lines.push(`  ${formatEvent(e)}`);
  return lines.join('\n');
}

export function explainCommand(service: ExplainService, wrap: ActionWrapper): Command {
  return new Command('explain')
    .description('why a user or company is (or is not) in Connect as it is, and what the next run would change')
    .argument('<object>', 'user:KEY or company:KEY, e.g. user:U001 or company:C100')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print one JSON object')
    .action((object: string, flags: { config?: string; json?: boolean }) =>
      wrap(async (f: { config?: string; json?: boolean }): Promise<CommandResult> => {
        const ref = parseObjectRef(object);
        if (ref === null) throw new UsageError(`explain: expected user:KEY or company:KEY, e.g. user:U001; got '${object}'`);
        const report = await service(f.config, ref);
        return { exitCode: ExitCode.ok, json: report, asJson: f.json === true, human: renderExplanation(report) };
      })(flags),
    );
}
