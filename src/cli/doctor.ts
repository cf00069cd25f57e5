/**
 * `ud-bridge doctor [--config F] [--json]`: checks the config, the directory source, Connect, the
 * folders and the run lock, and prints one line per check. Exit 1 when any check fails, so a
 * script or an installer can gate on it.
 */
import { Command } from 'commander';
import type { DoctorReport } from '../app/doctor.js';
import type { ActionWrapper } from './generate.js';
import { ExitCode, type CommandResult } from './result.js';

export interface DoctorFlags {
  readonly config?: string;
  readonly json?: boolean;
  readonly contract?: boolean;
  readonly contractWrite?: boolean;
}

export type DoctorService = (configPath: string | undefined, options?: { contract?: { write: boolean } }) => Promise<DoctorReport>;

export function renderDoctor(report: DoctorReport): string {
  const lines = report.checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name} — ${c.detail}`);
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? `All ${report.checks.length} checks passed.` : `${failed} of ${report.checks.length} checks failed.`);
  return lines.join('\n');
}

export async function doctor(service: DoctorService, flags: DoctorFlags): Promise<CommandResult> {
  const contract = flags.contract || flags.contractWrite ? { contract: { write: flags.contractWrite === true } } : {};
  const report = await service(flags.config, contract);
  return { exitCode: report.ok ? ExitCode.ok : ExitCode.couldNotRun, json: report, asJson: flags.json ?? false, human: renderDoctor(report) };
}

export function doctorCommand(service: DoctorService, wrap: ActionWrapper): Command {
  return new Command('doctor')
    .description('check the config, the directory source, Connect (token, scopes, applications), folders and the run lock; changes nothing')
    .option('-c, --config <file>', 'config file (default: $UD_BRIDGE_CONFIG or config/ud-bridge.yaml)')
    .option('--json', 'print the checks as one JSON object')
    .option('--contract', "also call every read operation ud-bridge uses and compare each answer with the contract document, field by field")
    .option('--contract-write', '--contract, plus a create-and-clean-up round on a scratch tenant (writes to Connect)')
    .action(wrap((flags: DoctorFlags) => doctor(service, flags)));
}
