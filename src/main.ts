#!/usr/bin/env node
/**
 * The composition root: the only place that builds the program, wires commands to services
 * and turns a thrown error or a CommandResult into an exit code.
 */
import { Command, CommanderError } from 'commander';
import { describeError, UdBridgeError } from './errors.js';
import { render, ExitCode, type CommandResult } from './cli/result.js';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCommand } from './cli/generate.js';
import { simCommand } from './cli/sim.js';
import { syncCommand, type SyncServiceOptions } from './cli/sync.js';
import { applyCommand, approveCommand } from './cli/approve.js';
import { approveRequest } from './app/approve.js';
import { journalCommand } from './cli/journal.js';
import { doctorCommand } from './cli/doctor.js';
import { runDoctor } from './app/doctor.js';
import { registerDaemonCommand, type DaemonCommandDeps } from './cli/daemon.js';
import { registerStatusCommand } from './cli/status.js';
import { interruptOnSignals } from './cli/interrupt.js';
import { ignoreBrokenPipe } from './cli/broken-pipe.js';
import { registerServiceCommand } from './cli/service.js';
import { DaemonMetrics } from './daemon/metrics.js';
import { readLockHolder, staleReason } from './daemon/lock.js';
import { newRunId } from './app/sync.js';
import { guardJournal, SinkMonitor } from './app/sinks.js';
import { defaultConfigPath, packageRoot } from './config/load.js';
import type { App } from './app/app.js';
import { noWriteback } from './app/app.js';
import { runSync, type SyncDeps } from './app/sync.js';
import { ProfileWriter } from './app/profile-writeback.js';
import { explainObject } from './app/explain.js';
import { explainCommand } from './cli/explain.js';
import { loadConfig, type ResolvedConfig } from './config/load.js';
import { createConnectClient, CONNECT_SCOPES, type ConnectObserver } from './connect/client.js';
import { withNetworkLog } from './connect/log-observer.js';
import { withRedactedErrors } from './connect/redacted-errors.js';
import { acquireRunLock } from './daemon/lock.js';
import type { RunProgress, RunRequest } from './domain/run.js';
import type { DirectorySource, DirectoryWriteback } from './domain/snapshot.js';
import { createJournal } from './journal/writer.js';
import { createLogger, closeLogger, flushLogFiles, reopenLogFiles, type Logger } from './log/logger.js';
import { createRedactor } from './log/redact.js';
import { StateStore } from './state/store.js';
import { createSnapshotSource } from './source/snapshot/read.js';
import { generateSnapshot } from './source/synthetic/generate.js';
import { startWebhookService } from './webhook/service.js';
import { sendTestEvent } from './webhook/test-event.js';
import { webhookCommand } from './cli/webhook.js';

type Action<O> = (options: O) => Promise<CommandResult>;

/** Wraps a command's action so that its result is rendered and its error becomes an exit code. */
export function runAction<O>(action: Action<O>): (options: O) => Promise<void> {
  return async (options: O) => {
    try {
      process.exitCode = render(await action(options));
    } catch (e) {
      const { message } = describeError(e);
      process.stderr.write(`ud-bridge: ${message}\n`);
      process.exitCode = e instanceof UdBridgeError ? e.exitCode : ExitCode.couldNotRun;
    }
  };
}

/** A lock older than this whose holder cannot be checked (another host) is taken as stale. */
const LOCK_STALE_MS = 6 * 60 * 60 * 1000;

/**
 * The SQL Server driver and the simulator (Fastify) are imported only by the configs that use
 * them: loading both costs a third of a second on every command, snapshot runs included.
 */
async function buildSource(config: ResolvedConfig, logger: Logger): Promise<{ source: DirectorySource; writeback: DirectoryWriteback; close(): Promise<void> }> {
  const s = config.source;
  switch (s.type) {
    case 'snapshot':
      return { source: createSnapshotSource({ path: s.path }), writeback: noWriteback, close: async () => {} };
    case 'synthetic': {
      const snapshot = generateSnapshot(s);
      return { source: { name: `synthetic:seed=${s.seed}`, read: async () => snapshot }, writeback: noWriteback, close: async () => {} };
    }
    case 'sqlserver': {
      const { createSqlServerSource } = await import('./source/sqlserver/index.js');
      const sql = createSqlServerSource(s.sqlserver, { logger });
      return { source: sql, writeback: sql, close: () => sql.close() };
    }
  }
}

/** Builds everything one command needs from the config; the caller closes it. */
export async function openApp(options: { configPath?: string; observer?: ConnectObserver; daemon?: boolean } = {}): Promise<App> {
  // Only the daemon serves HTTP: any other command runs without the daemon's token in its environment.
  const config = loadConfig({ secrets: options.daemon === true ? 'resolve' : 'run', ...(options.configPath === undefined ? {} : { path: options.configPath }) });
  // One redactor for every sink: the log, the journal, the state, and errors from Connect.
  const redactor = createRedactor({ secrets: config.secretValues });
  const sinks = new SinkMonitor();
  const logger = createLogger({
    onError: (e) => sinks.report('log', e),
    dir: config.logging.dir,
    level: config.logging.level,
    console: config.logging.console,
    maxSize: config.logging.maxSize,
    maxFiles: config.logging.maxFiles,
    redactor,
  });
  const closers: (() => Promise<void> | void)[] = [() => closeLogger(logger)];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };
  try {
    const store = StateStore.open(config.paths.data, { redactor });
    closers.push(() => store.close());
    const journal = createJournal({ dir: config.paths.journal, redactor });
    closers.push(() => journal.close());
    const { source, writeback, close: closeSource } = await buildSource(config, logger);
    closers.push(closeSource);

    let apiBaseUrl = config.connect.apiBaseUrl;
    let tokenUrl = config.connect.tokenUrl;
    let embeddedConnectUrl: string | null = null;
    if (config.connect.mode === 'embedded') {
      const { startSimulator } = await import('./sim/index.js');
      const sim = await startSimulator({
        port: 0,
        statePath: config.connect.embedded.statePath,
        ...(config.connect.embedded.seed ? { seed: config.connect.embedded.seed } : {}),
      });
      closers.push(() => sim.close());
      embeddedConnectUrl = sim.url;
      apiBaseUrl = sim.url;
      tokenUrl = `${sim.url}/connect/token`;
    }
    const connect = withRedactedErrors(createConnectClient({
      apiBaseUrl,
      tokenUrl,
      clientId: config.connect.clientId,
      clientSecret: config.connect.clientSecret,
      clientAuth: config.connect.clientAuth,
      scopes: CONNECT_SCOPES,
      timeoutMs: config.connect.timeoutMs,
      // The embedded simulator is in this process: never through the customer's proxy.
      ...(config.connect.mode === 'embedded' ? {} : { network: config.connect.network }),
      concurrency: config.connect.concurrency,
      retry: config.connect.retry,
      maxRetryAfterMs: config.connect.maxRetryAfterMs,
      adaptive: config.connect.adaptive,
      circuitBreaker: config.connect.circuitBreaker,
      observer: withNetworkLog(logger, options.observer),
    }), (text) => redactor.redactString(text));
    closers.push(() => connect.close());

    const profiles = new ProfileWriter({
      store,
      writeback,
      journal,
      logger,
      policy: { fields: config.policy.profileFields, journalEmails: config.policy.journalEmails },
    });
    const deps = syncDeps(config, { source, writeback, profiles, connect, store, journal, logger, sinks, flushLog: () => flushLogFiles(logger), reopenLog: () => reopenLogFiles(logger) });
    return {
      config,
      logger,
      store,
      journal,
      source,
      writeback,
      profiles,
      connect,
      embeddedConnectUrl,
      sinks,
      sync: (request: RunRequest) => runSync(deps, request),
      explain: (ref) => explainObject({ ...deps, journalDir: config.paths.journal }, ref),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A run's dependencies: the parts openApp opens, and the mapping and policies from the config. */
export function syncDeps(config: ResolvedConfig, parts: Pick<SyncDeps, 'source' | 'writeback' | 'profiles' | 'connect' | 'store' | 'journal' | 'logger' | 'sinks' | 'flushLog' | 'reopenLog'>): SyncDeps {
  return {
    ...parts,
    mapping: {
      programs: config.programs,
      roleNames: config.roleNames,
      scope: config.scope,
      ownsTwoStep: config.policy.ownsTwoStep,
      ownsEmailChangeAllowed: config.policy.ownsEmailChangeAllowed,
    },
    planPolicy: {
      tenantSoftMatch: config.policy.tenantSoftMatch,
      programRemoved: config.policy.programRemoved,
      managedApplications: [...new Set(Object.values(config.programs).map((p) => p.applicationId))],
    },
    gatePolicy: config.policy.destructive,
    anomalyPolicy: config.policy.anomaly,
    parentTenantExternalId: config.connect.parentTenantExternalId,
    newTenant: { businessUnitName: config.connect.businessUnitName },
    newUser: { countryCode: config.userDefaults.countryCode, preferredLanguage: config.userDefaults.preferredLanguage },
    concurrency: config.apply.concurrency,
  };
}

/**
 * One run under the cross-process run lock, for `sync`, `approve` and `apply` (the daemon takes the
 * same lock per run). It counts the Connect calls the run made, so the summary can say when a delta
 * run trusted the local state, and feeds them to the progress view while Connect is being read.
 */
async function syncOnce(configPath: string | undefined, request: RunRequest | ((store: StateStore) => RunRequest), options: SyncServiceOptions = {}) {
  let calls = 0;
  let readingConnect = false;
  const onProgress = options.onProgress;
  const app = await openApp({
    ...(configPath === undefined ? {} : { configPath }),
    observer: {
      onResponse: () => {
        calls++;
        if (readingConnect) onProgress?.({ phase: 'connect', step: 'calls', calls });
      },
    },
  });
  try {
    const lock = acquireRunLock({ dataDir: app.config.paths.data, staleAfterMs: LOCK_STALE_MS });
    // Ctrl-C and SIGTERM take the daemon's path: no new op, the in-flight ones finish (bounded).
    const interrupt = interruptOnSignals({ deadlineMs: app.config.daemon.shutdownDeadlineSeconds * 1000, beforeForcedExit: () => lock.release() });
    try {
      const base = typeof request === 'function' ? request(app.store) : request;
      const watched: RunRequest = {
        ...base,
        signal: interrupt.signal,
        ...(onProgress === undefined ? {} : {
          onProgress: (p: RunProgress) => {
            if (p.phase === 'connect') readingConnect = p.step !== 'end';
            onProgress(p);
          },
        }),
      };
      const result = await app.sync(watched);
      return { ...result, journalPath: app.journal.path, dataDir: app.config.paths.data, connectCalls: calls, ...(interrupt.received ? { interruptedBy: interrupt.received } : {}) };
    } finally {
      interrupt.dispose();
      lock.release();
    }
  } finally {
    await app.close();
  }
}

/**
 * Commands that only read local files (journal, status) take `--config` like the rest; before
 * commander has parsed it they fall back to the environment or the default config.
 */
function configuredPaths(configPath?: string): ResolvedConfig['paths'] {
  return loadConfig({ secrets: 'skip', ...(configPath === undefined ? {} : { path: configPath }) }).paths;
}

/** The daemon keeps one App (state, journal, Connect client, embedded simulator) for its lifetime. */
async function daemonDeps(options: { config?: string }): Promise<DaemonCommandDeps> {
  const metrics = new DaemonMetrics();
  const app = await openApp({
    ...(options.config === undefined ? {} : { configPath: options.config }),
    daemon: true,
    observer: {
      onResponse: (e) => metrics.observeConnectCall(e.operation, e.status, e.durationMs),
      onRateLimited: (e) => metrics.recordRateLimited(e.operation),
    },
  });
  return {
    close: () => app.close(),
    config: app.config.daemon,
    dataDir: app.config.paths.data,
    logger: app.logger,
    metrics,
    sinkFailures: app.sinks,
    history: { lastRuns: (n) => app.store.lastRuns(n), heldOpsCount: () => app.store.heldOps().length },
    ...(app.config.webhooks.enabled
      ? {
          webhooks: () => {
            // Through the sink guard, as runs: a journal that cannot be written makes the daemon
            // unhealthy, not a delivery fail. Every entry also counts in /metrics.
            const journal = guardJournal(app.journal, app.sinks);
            return startWebhookService({
              config: app.config.webhooks,
              store: app.store,
              profiles: app.profiles,
              journal: { write: (e) => (journal.write(e), metrics.recordWebhook(e)), flush: () => journal.flush() },
              logger: app.logger,
            });
          },
        }
      : {}),
    statusPage: {
      journalDir: app.config.paths.journal,
      heldOps: () => app.store.heldOps(),
      explain: (ref) => app.explain(ref),
      approveRequest: (runId) => approveRequest(app.store, runId),
    },
    runOnce: async (request) => {
      const { summary, results } = await app.sync(request);
      for (const r of results) metrics.recordOp(r.op.kind, r.outcome);
      return summary;
    },
    onSkipped: (skipped) => {
      const runId = newRunId(new Date(skipped.at));
      // Through the sink guard: a journal that cannot be written makes the daemon unhealthy, not dead.
      guardJournal(app.journal, app.sinks).write({ type: 'run.skipped', runId, level: 'warn', mode: skipped.mode, reason: skipped.reason === 'run-in-progress' ? 'the previous run was still going' : `the run lock is held (${JSON.stringify(skipped.blockedBy ?? {})})` });
    },
  };
}

export function buildProgram(): Command {
  const program = new Command('ud-bridge')
    .description('Keeps Visma Connect in step with Visma User Directory: tenants, accounts, applications and roles.')
    .version((JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // One line: commander puts its "(Did you mean …?)" hint on a line of its own.
      outputError: (s, write) => write(`ud-bridge: ${s.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });
  program.addCommand(syncCommand(syncOnce, runAction));
  program.addCommand(approveCommand(syncOnce, runAction));
  program.addCommand(applyCommand(syncOnce, runAction));
  registerDaemonCommand(program, runAction, daemonDeps);
  registerStatusCommand(program, runAction, (o) => {
    const config = loadConfig({ secrets: 'skip', ...(o.config === undefined ? {} : { path: o.config }) });
    const store = StateStore.open(config.paths.data);
    process.once('exit', () => store.close());
    return {
      history: { lastRuns: (n) => store.lastRuns(n), heldOpsCount: () => store.heldOps().length },
      schedules: config.daemon.schedules,
      readHolder: () => readLockHolder(config.paths.data),
      holderStale: (holder) => staleReason(holder, new Date(), LOCK_STALE_MS),
    };
  });
  registerServiceCommand(program, runAction, {
    platform: process.platform,
    nodePath: process.execPath,
    packageRoot,
    defaultConfigPath: defaultConfigPath(),
  });
  program.addCommand(
    explainCommand(async (configPath, ref) => {
      const app = await openApp(configPath === undefined ? {} : { configPath });
      try {
        return await app.explain(ref);
      } finally {
        await app.close();
      }
    }, runAction),
  );
  program.addCommand(
    webhookCommand((flags) => {
      // Only the webhook secrets are read: an admin can check the listener without the Connect or SQL credentials.
      const config = loadConfig({ secrets: { only: ['webhooks.secret', 'webhooks.previousSecret'] }, ...(flags.config === undefined ? {} : { path: flags.config }) });
      return sendTestEvent(config.webhooks, flags.url === undefined ? {} : { url: flags.url });
    }, runAction),
  );
  program.addCommand(journalCommand({ journalDir: (configPath) => configuredPaths(configPath).journal }, runAction));
  program.addCommand(generateCommand(runAction));
  program.addCommand(simCommand(runAction));
  program.addCommand(doctorCommand((configPath, o) => runDoctor({ ...(configPath === undefined ? {} : { configPath }), ...(o?.contract ? { contract: o.contract } : {}), lockStaleAfterMs: LOCK_STALE_MS }), runAction));
  return program;
}

function forEachCommand(command: Command, visit: (c: Command) => void): void {
  for (const sub of command.commands) {
    visit(sub);
    forEachCommand(sub, visit);
  }
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  forEachCommand(program, (c) => {
    c.exitOverride().configureOutput(program.configureOutput()).showSuggestionAfterError(true);
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      const benign = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      process.exitCode = benign ? 0 : ExitCode.usage;
      return;
    }
    throw e;
  }
}

/** Only when run as the program (`ud-bridge`, `node dist/main.js`), not when imported by a test. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  ignoreBrokenPipe(process.stdout);
  ignoreBrokenPipe(process.stderr);
  await main(process.argv);
}
