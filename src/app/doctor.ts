/**
 * `ud-bridge doctor`: everything a run depends on, checked without changing anything in the
 * directory or in Connect. Each check is `{name, ok, detail}`; a failure is a result, never a
 * thrown error, so one broken part does not hide the state of the others.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { readLockHolder, staleReason } from '../daemon/lock.js';
import { ConfigError, describeError } from '../errors.js';
import { createRedactor } from '../log/redact.js';
import type { ContractOptions } from './doctor-contract.js';
import { networkChecks } from './doctor-network.js';
import { webhookChecks } from './doctor-webhook.js';

export type { DoctorCheck } from './doctor-check.js';
import type { DoctorCheck } from './doctor-check.js';

export interface DoctorReport {
  readonly ok: boolean;
  readonly configPath: string | null;
  readonly checks: readonly DoctorCheck[];
}

export interface DoctorOptions {
  readonly configPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** The run lock's staleness rule, as the sync command applies it. */
  readonly lockStaleAfterMs: number;
  readonly now?: () => Date;
  /** `--contract`: also compare every read operation's live answer with the contract document. */
  readonly contract?: ContractOptions;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  let config: ResolvedConfig;
  try {
    config = loadConfig({ ...(options.configPath === undefined ? {} : { path: options.configPath }), ...(options.env ? { env: options.env } : {}) });
  } catch (e) {
    const detail = e instanceof ConfigError ? `${e.key}: ${e.expected}` : describeError(e).message;
    return { ok: false, configPath: options.configPath ?? null, checks: [{ name: 'config', ok: false, detail: `${detail} (nothing else checked)` }] };
  }
  const checks: DoctorCheck[] = [{ name: 'config', ok: true, detail: `${config.configPath} is valid` }];
  // The SQL Server driver and the simulator load here, not with every command that starts the program.
  checks.push(...(await guarded('source', async () => (await import('./doctor-source.js')).sourceChecks(config.source))));
  checks.push(...networkChecks(config));
  checks.push(...(await guarded('connect', async () => (await import('./doctor-connect.js')).connectChecks(config))));
  if (options.contract) checks.push(...(await guarded('contract', async () => (await import('./doctor-contract.js')).contractChecks(config, options.contract!))));
  checks.push(...webhookChecks(config.webhooks, (options.now ?? (() => new Date()))()));
  checks.push(...folderChecks(config));
  checks.push(lockCheck(config.paths.data, options.lockStaleAfterMs, options.now ?? (() => new Date())));
  // Details quote what Connect and SQL Server answered; an answer may echo what it was sent.
  const { redactString } = createRedactor({ secrets: config.secretValues });
  return { ok: checks.every((c) => c.ok), configPath: config.configPath, checks: checks.map((c) => ({ ...c, detail: redactString(c.detail) })) };
}

async function guarded(name: string, run: () => Promise<DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    return await run();
  } catch (e) {
    return [{ name, ok: false, detail: describeError(e).message }];
  }
}

/** Every folder a run writes to; a probe file is written and removed in each. */
function folderChecks(config: ResolvedConfig): DoctorCheck[] {
  const folders = new Map<string, string>([
    ['data', config.paths.data],
    ['logs', config.paths.logs],
    ['journal', config.paths.journal],
  ]);
  if (![...folders.values()].includes(config.logging.dir)) folders.set('logging.dir', config.logging.dir);
  return [...folders].map(([what, dir]) => {
    const probe = join(dir, `.ud-bridge-doctor-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 }); // as a run would create it: private
      writeFileSync(probe, 'probe');
      rmSync(probe, { force: true });
      return { name: `folder ${what}`, ok: true, detail: `${dir} is writable` };
    } catch (e) {
      return { name: `folder ${what}`, ok: false, detail: `${dir} is not writable: ${(e as Error).message}` };
    }
  });
}

/** A held lock is not a fault (the daemon may be mid-run): the check names who holds it. */
function lockCheck(dataDir: string, staleAfterMs: number, now: () => Date): DoctorCheck {
  try {
    const holder = readLockHolder(dataDir);
    if (holder === null) return { name: 'run lock', ok: true, detail: 'free' };
    const who = `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}${holder.runId === undefined ? '' : ` (run ${holder.runId})`}`;
    const stale = staleReason(holder, now(), staleAfterMs);
    return { name: 'run lock', ok: true, detail: stale === null ? `held by ${who}; a manual sync started now is refused until it is released` : `stale (${stale}), left by ${who}; the next run takes it over` };
  } catch (e) {
    return { name: 'run lock', ok: false, detail: describeError(e).message };
  }
}
