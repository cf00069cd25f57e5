/**
 * `ud-bridge service install|uninstall [--systemd|--windows] [--print] [--user U] [--config F]`
 *
 * Writes the service definition for this installation and prints the few commands an
 * administrator runs as root/Administrator. It never runs systemctl or sc.exe itself: a
 * service change on a customer's server is a step a person takes knowingly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Argument, type Command } from 'commander';
import { UdBridgeError, UsageError } from '../errors.js';
import {
  SYSTEMD_UNIT_DIR,
  SERVICE_NODE_OPTIONS,
  SYSTEMD_UNIT_NAME,
  systemdInstallSteps,
  systemdUninstallSteps,
  systemdUnit,
} from '../daemon/service/systemd.js';
import {
  loadNodeWindows,
  WINDOWS_SERVICE_ID,
  winswInstallSteps,
  winswUninstallSteps,
  winswXml,
  type NodeWindowsServiceCtor,
} from '../daemon/service/windows.js';
import { ExitCode, type CommandResult } from './result.js';

export type ServiceAction = 'install' | 'uninstall';

export interface ServiceOptions {
  readonly systemd?: boolean;
  readonly windows?: boolean;
  readonly print?: boolean;
  readonly user?: string;
  readonly config?: string;
  readonly dataDir?: string;
  readonly logsDir?: string;
}

export interface ServiceDeps {
  readonly platform: NodeJS.Platform;
  /** Absolute path of the node executable the service runs (process.execPath). */
  readonly nodePath: string;
  /** The installed package: dist/main.js is under it, and it is the service's working directory. */
  readonly packageRoot: string;
  readonly defaultConfigPath: string;
  /** daemon.shutdownDeadlineSeconds; the service manager's stop timeout is set above it. */
  readonly shutdownDeadlineSeconds?: number;
  readonly systemdUnitDir?: string;
  readonly loadNodeWindows?: () => Promise<NodeWindowsServiceCtor | null>;
}

export const DEFAULT_LINUX_USER = 'ud-bridge';

function pickKind(options: ServiceOptions, platform: NodeJS.Platform): 'systemd' | 'windows' {
  if (options.systemd === true && options.windows === true) throw new UsageError('service: give --systemd or --windows, not both');
  if (options.systemd === true) return 'systemd';
  if (options.windows === true) return 'windows';
  if (platform === 'win32') return 'windows';
  if (platform === 'linux') return 'systemd';
  throw new UsageError(`service: no service manager known for platform '${platform}'; give --systemd or --windows`);
}

function writeOrExplain(file: string, text: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o644 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    throw new UdBridgeError('SERVICE_WRITE_FAILED', `service: cannot write ${file} (${code}); run as root/Administrator, or use --print and place the file yourself`, {
      cause: e,
      details: { file },
    });
  }
}

function numbered(steps: readonly string[]): string {
  return steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n');
}

export async function serviceCommand(action: ServiceAction, options: ServiceOptions, deps: ServiceDeps): Promise<CommandResult> {
  const kind = pickKind(options, deps.platform);
  // Paths follow the target's rules, so a Windows definition can be prepared on Linux and back.
  const p = kind === 'windows' ? path.win32 : path.posix;
  const given = options.config ?? deps.defaultConfigPath;
  if (kind === 'windows' && deps.platform !== 'win32' && !p.isAbsolute(given)) {
    throw new UsageError(`service: --config must be an absolute Windows path when preparing a Windows service elsewhere, got '${given}'`);
  }
  const configPath = p.resolve(given);
  const configDir = p.dirname(configPath);
  const dataDir = p.resolve(configDir, options.dataDir ?? 'data');
  const logsDir = p.resolve(configDir, options.logsDir ?? 'logs');
  const mainJs = p.join(deps.packageRoot, 'dist', 'main.js');
  const stopTimeoutSec = (deps.shutdownDeadlineSeconds ?? 30) + 15;

  if (kind === 'systemd') {
    const user = options.user ?? DEFAULT_LINUX_USER;
    const unitPath = path.join(deps.systemdUnitDir ?? SYSTEMD_UNIT_DIR, SYSTEMD_UNIT_NAME);
    if (action === 'uninstall') {
      if (options.print === true) return { exitCode: ExitCode.ok, human: numbered([`rm ${unitPath}`, ...systemdUninstallSteps(user)]) };
      const wants = path.join(path.dirname(unitPath), 'multi-user.target.wants', SYSTEMD_UNIT_NAME);
      for (const f of [wants, unitPath]) fs.rmSync(f, { force: true });
      return { exitCode: ExitCode.ok, human: `Removed ${unitPath}.\nNext, as root:\n${numbered(systemdUninstallSteps(user))}` };
    }
    const unit = systemdUnit({
      nodePath: deps.nodePath,
      mainJs,
      configPath,
      workingDirectory: deps.packageRoot,
      user,
      writablePaths: [dataDir, logsDir],
      stopTimeoutSec,
    });
    if (options.print === true) return { exitCode: ExitCode.ok, human: unit };
    writeOrExplain(unitPath, unit);
    const steps = systemdInstallSteps({ user, writablePaths: [dataDir, logsDir], unitPath });
    return { exitCode: ExitCode.ok, human: `Wrote ${unitPath}.\nNext, as root:\n${numbered(steps)}` };
  }

  // The file is written on this host, so its path follows the host's rules.
  const xmlPath = path.join(deps.packageRoot, `${WINDOWS_SERVICE_ID}.xml`);
  const xmlText = winswXml({
    nodePath: deps.nodePath,
    mainJs,
    configPath,
    workingDirectory: deps.packageRoot,
    logPath: p.join(logsDir, 'service'),
    ...(options.user === undefined ? {} : { user: options.user }),
    stopTimeoutSec,
  });
  if (options.print === true) return { exitCode: ExitCode.ok, human: action === 'install' ? xmlText : numbered(winswUninstallSteps(xmlPath)) };

  const NodeWindows = deps.platform === 'win32' ? await (deps.loadNodeWindows ?? loadNodeWindows)() : null;
  if (NodeWindows !== null) return viaNodeWindows(NodeWindows, action, { mainJs, configPath, deps, stopTimeoutSec });

  if (action === 'uninstall') return { exitCode: ExitCode.ok, human: `Run, as Administrator:\n${numbered(winswUninstallSteps(xmlPath))}` };
  writeOrExplain(xmlPath, xmlText);
  return { exitCode: ExitCode.ok, human: `Wrote ${xmlPath} (a WinSW service definition).\nNext, as Administrator:\n${numbered(winswInstallSteps(xmlPath))}` };
}

async function viaNodeWindows(
  Service: NodeWindowsServiceCtor,
  action: ServiceAction,
  ctx: { mainJs: string; configPath: string; deps: ServiceDeps; stopTimeoutSec: number },
): Promise<CommandResult> {
  const svc = new Service({
    name: WINDOWS_SERVICE_ID,
    description: 'Keeps Visma Connect in step with Visma User Directory.',
    script: ctx.mainJs,
    scriptOptions: `daemon --config "${ctx.configPath}"`,
    workingDirectory: ctx.deps.packageRoot,
    execPath: ctx.deps.nodePath,
    nodeOptions: [SERVICE_NODE_OPTIONS],
    stopparentfirst: true,
    stoptimeout: ctx.stopTimeoutSec,
    maxRestarts: 3,
  });
  const outcome = await new Promise<string>((resolve, reject) => {
    svc.on('error', (e) => reject(new UdBridgeError('SERVICE_INSTALL_FAILED', `service ${action} through node-windows failed: ${String(e)}`, { cause: e })));
    if (action === 'install') {
      svc.on('install', () => {
        svc.start();
        resolve('installed and started');
      });
      svc.on('alreadyinstalled', () => resolve('already installed'));
      svc.on('invalidinstallation', () => reject(new UdBridgeError('SERVICE_INSTALL_FAILED', 'node-windows reports an invalid installation')));
      svc.install();
    } else {
      svc.on('uninstall', () => resolve('uninstalled'));
      svc.uninstall();
    }
  });
  return { exitCode: ExitCode.ok, human: `Windows service '${WINDOWS_SERVICE_ID}' ${outcome} (node-windows).` };
}

/** Adds the command to the program; `wrap` is main.ts's runAction (render + exit code). */
export function registerServiceCommand(
  program: Command,
  wrap: (action: (o: { action: ServiceAction } & ServiceOptions) => Promise<CommandResult>) => (o: { action: ServiceAction } & ServiceOptions) => Promise<void>,
  deps: ServiceDeps,
): void {
  const run = wrap(({ action, ...options }) => serviceCommand(action, options, deps));
  program
    .command('service')
    .description('Install or remove ud-bridge as a system service (systemd on Linux, WinSW/node-windows on Windows)')
    .addArgument(new Argument('<action>', 'install or uninstall').choices(['install', 'uninstall']))
    .option('--systemd', 'a systemd unit (the default on Linux)')
    .option('--windows', 'a Windows service (the default on Windows)')
    .option('--print', 'print the service definition instead of writing it')
    .option('--user <name>', `the account the service runs as (Linux default: ${DEFAULT_LINUX_USER})`)
    .option('--config <file>', 'the config file the service uses (made absolute)')
    .option('--data-dir <dir>', 'the data folder the service may write (default: data beside the config)')
    .option('--logs-dir <dir>', 'the logs folder the service may write (default: logs beside the config)')
    .action((action: ServiceAction, options: ServiceOptions) => run({ action, ...options }));
}
