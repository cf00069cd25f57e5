import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import type { NodeWindowsServiceCtor } from '../daemon/service/windows.js';
import { Command } from 'commander';
import type { CommandResult } from './result.js';
import { registerServiceCommand, serviceCommand, type ServiceDeps } from './service.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ud-bridge-svc-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function deps(over: Partial<ServiceDeps> = {}): ServiceDeps {
  return {
    platform: 'linux',
    nodePath: process.execPath,
    packageRoot: '/opt/ud-bridge',
    defaultConfigPath: '/etc/ud-bridge/ud-bridge.yaml',
    shutdownDeadlineSeconds: 30,
    ...over,
  };
}

function directives(unit: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) map.set(m[1]!, [...(map.get(m[1]!) ?? []), m[2]!]);
  }
  return map;
}

describe('service install --systemd', () => {
  it('prints a hardened unit that restarts on failure and runs the daemon with the absolute config', async () => {
    const result = await serviceCommand('install', { print: true, config: '/etc/ud-bridge/ud-bridge.yaml' }, deps());
    const unit = result.human!;
    const d = directives(unit);
    expect(d.get('ExecStart')).toEqual([`${process.execPath} /opt/ud-bridge/dist/main.js daemon --config /etc/ud-bridge/ud-bridge.yaml`]);
    expect(d.get('User')).toEqual(['ud-bridge']);
    expect(d.get('Group')).toEqual(['ud-bridge']);
    expect(d.get('WorkingDirectory')).toEqual(['/opt/ud-bridge']);
    expect(d.get('Restart')).toEqual(['on-failure']);
    expect(d.get('RestartSec')).toEqual(['10']);
    expect(d.get('TimeoutStopSec')).toEqual(['45']);
    expect(d.get('ReadWritePaths')).toEqual(['/etc/ud-bridge/data /etc/ud-bridge/logs']);
    // A heap limit under 2 GB, so V8 collects at about twice the live heap (README, Performance).
    expect(d.get('Environment')).toContain('NODE_OPTIONS=--max-old-space-size=1536');
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectKernelModules', 'yes'],
      ['ProtectKernelLogs', 'yes'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['LockPersonality', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['SystemCallFilter', '@system-service'],
    ] as const) {
      expect(d.get(key), key).toEqual([value]);
    }
    // V8's JIT needs W+X memory: the directive must stay off, with the reason in a comment.
    expect(d.has('MemoryDenyWriteExecute')).toBe(false);
    expect(unit).toMatch(/# MemoryDenyWriteExecute is deliberately NOT set: V8's JIT/);
  });

  it('passes systemd-analyze verify', async (ctx) => {
    const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) {
      console.log(`skipped: systemd-analyze is not available here (${probe.error?.message ?? `exit ${probe.status}`})`);
      ctx.skip();
    }
    const dir = tempDir();
    const unit = (await serviceCommand('install', { print: true, config: path.join(dir, 'ud-bridge.yaml') }, deps({ packageRoot: dir }))).human!;
    const file = path.join(dir, 'ud-bridge.service');
    fs.writeFileSync(file, unit);
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    // Every complaint about the unit itself is reported as "<file>:<line>: …".
    const problems = `${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.includes(file));
    expect(problems, `${verify.stdout}${verify.stderr}`).toEqual([]);
  });

  it('writes the unit and prints the useradd, daemon-reload and enable steps; uninstall removes it', async () => {
    const unitDir = tempDir();
    const result = await serviceCommand('install', { user: 'svc_ud', config: '/srv/ud/conf.yaml' }, deps({ systemdUnitDir: unitDir }));
    const unitPath = path.join(unitDir, 'ud-bridge.service');
    expect(fs.readFileSync(unitPath, 'utf8')).toContain('User=svc_ud\n');
    expect(result.exitCode).toBe(0);
    expect(result.human).toContain('useradd --system --user-group');
    expect(result.human).toContain('systemctl daemon-reload');
    expect(result.human).toContain('systemctl enable --now ud-bridge.service');
    expect(result.human).toContain('install -d -o svc_ud -g svc_ud -m 0750 /srv/ud/data /srv/ud/logs');

    fs.mkdirSync(path.join(unitDir, 'multi-user.target.wants'));
    fs.symlinkSync(unitPath, path.join(unitDir, 'multi-user.target.wants', 'ud-bridge.service'));
    const removed = await serviceCommand('uninstall', {}, deps({ systemdUnitDir: unitDir }));
    expect(fs.existsSync(unitPath)).toBe(false);
    expect(fs.readdirSync(path.join(unitDir, 'multi-user.target.wants'))).toEqual([]);
    expect(removed.human).toContain('systemctl stop ud-bridge.service');
  });

  it('rejects a user name that would break the unit, and asking for both managers', async () => {
    await expect(serviceCommand('install', { print: true, user: 'bad user\nExecStart=/bin/sh' }, deps())).rejects.toThrow(/--user must be a plain user name/);
    await expect(serviceCommand('install', { systemd: true, windows: true }, deps())).rejects.toBeInstanceOf(UsageError);
    await expect(serviceCommand('install', {}, deps({ platform: 'darwin' }))).rejects.toThrow(/give --systemd or --windows/);
  });
});

describe('service install --windows', () => {
  const winDeps = (over: Partial<ServiceDeps> = {}) =>
    deps({ platform: 'win32', nodePath: 'C:\\Program Files\\nodejs\\node.exe', packageRoot: 'C:\\ud-bridge', defaultConfigPath: 'C:\\ud-bridge\\config\\ud-bridge.yaml', loadNodeWindows: async () => null, ...over });

  it('prints a WinSW definition that restarts three times, stops node gracefully and escapes values', async () => {
    const result = await serviceCommand('install', { windows: true, print: true, config: 'C:\\R&D\\ud <test>.yaml', user: 'NT AUTHORITY\\LocalService' }, winDeps());
    const xml = result.human!;
    expect(xml).toContain('<id>ud-bridge</id>');
    expect(xml).toContain('<executable>C:\\Program Files\\nodejs\\node.exe</executable>');
    expect(xml).toContain('<arguments>"C:\\ud-bridge\\dist\\main.js" daemon --config "C:\\R&amp;D\\ud &lt;test&gt;.yaml"</arguments>');
    expect(xml.match(/<onfailure action="restart" delay="10 sec"\/>/g)).toHaveLength(3);
    expect(xml).toContain('<resetfailure>1 hour</resetfailure>');
    expect(xml).toContain('<stopparentprocessfirst>true</stopparentprocessfirst>');
    expect(xml).toContain('<stoptimeout>45 sec</stoptimeout>');
    expect(xml).toContain('<env name="NODE_OPTIONS" value="--max-old-space-size=1536"/>');
    expect(xml).toContain('<log mode="roll-by-size">');
    expect(xml).toContain('<username>NT AUTHORITY\\LocalService</username>');
    expect(xml).toContain('<logpath>C:\\R&amp;D\\logs\\service</logpath>');
    // Every tag opened is closed, in order.
    const stack: string[] = [];
    for (const m of xml.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (m[3] === '/') continue;
      if (m[1] === '/') expect(stack.pop()).toBe(m[2]);
      else stack.push(m[2]!);
    }
    expect(stack).toEqual([]);
  });

  it('without node-windows writes the XML beside the package and prints the WinSW steps', async () => {
    const root = tempDir();
    const result = await serviceCommand('install', { windows: true }, deps({ platform: 'linux', packageRoot: root }));
    expect(fs.readFileSync(path.join(root, 'ud-bridge.xml'), 'utf8')).toContain('<id>ud-bridge</id>');
    expect(result.human).toContain('WinSW-x64.exe');
    expect(result.human).toMatch(/ud-bridge\.exe install/);
  });

  it('with node-windows present on Windows registers and starts the service through it', async () => {
    const seen: { options?: unknown; calls: string[] } = { calls: [] };
    class FakeService {
      private readonly handlers = new Map<string, (e?: unknown) => void>();
      constructor(options: unknown) {
        seen.options = options;
      }
      on(event: string, fn: (e?: unknown) => void) {
        this.handlers.set(event, fn);
      }
      install() {
        seen.calls.push('install');
        this.handlers.get('install')?.();
      }
      uninstall() {
        seen.calls.push('uninstall');
        this.handlers.get('uninstall')?.();
      }
      start() {
        seen.calls.push('start');
      }
    }
    const result = await serviceCommand('install', {}, winDeps({ loadNodeWindows: async () => FakeService as unknown as NodeWindowsServiceCtor }));
    expect(seen.calls).toEqual(['install', 'start']);
    expect(seen.options).toMatchObject({ name: 'ud-bridge', script: 'C:\\ud-bridge\\dist\\main.js', stopparentfirst: true, maxRestarts: 3, nodeOptions: ['--max-old-space-size=1536'] });
    expect(result.human).toContain('installed and started');
  });
});

describe('registerServiceCommand', () => {
  it('parses the command line into the same call', async () => {
    const results: CommandResult[] = [];
    const program = new Command('ud-bridge').exitOverride();
    registerServiceCommand(program, (action) => async (o) => void results.push(await action(o)), deps());
    await program.parseAsync(['service', 'install', '--systemd', '--print', '--user', 'svc', '--config', '/srv/u/c.yaml', '--data-dir', '/var/lib/ud', '--logs-dir', '/var/log/ud'], { from: 'user' });
    const unit = results[0]!.human!;
    expect(unit).toContain('User=svc\n');
    expect(unit).toContain('--config /srv/u/c.yaml\n');
    expect(unit).toContain('ReadWritePaths=/var/lib/ud /var/log/ud\n');
    await expect(program.parseAsync(['service', 'reinstall'], { from: 'user' })).rejects.toThrow(/Allowed choices are install, uninstall/);
  });
});
