/**
 * Secrets nowhere: marker secrets (the Connect client secret, the bearer token Connect hands out,
 * the Basic header form base64(id:secret), the SQL password, the daemon's HTTP token), every
 * encoded form they travel in, grepped across every sink after a hostile Connect and a hostile SQL
 * Server echoed the requests back: the journal, data/state.sqlite and its WAL, the log files, the
 * saved plan, `sync`/`status`/`doctor`/`journal` output (human and --json), and the daemon's
 * /status and /healthz answers. The built program runs as an admin would run it.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startSimulator, type SimulatorHandle } from '../../src/sim/index.js';
import { MARKER_TOKEN, startHostileConnect, type HostileConnect } from '../support/hostile-connect.js';
import { ROOT } from '../support/harness.js';
import { startTdsServer, type TdsServer } from '../support/tds/index.js';
import { sampleDirectoryViews, viewHandler, type SampleDirectoryJson } from '../sqlserver/fixtures.js';

const run = promisify(execFile);
const MAIN = join(ROOT, 'dist', 'main.js');

const CLIENT_ID = 'ud-bridge';
// A space, a plus and a slash: URL, form and Basic encodings all differ from the raw value.
const CLIENT_SECRET = 'MARKER client+secret/a41f';
const SQL_PASSWORD = 'MARKER-sql-pw-77e0';
const HTTP_TOKEN = 'MARKER-http-token-3c9b';
const ENV = { UDB_T_CLIENT_SECRET: CLIENT_SECRET, UDB_T_SQL_PASSWORD: SQL_PASSWORD, UDB_T_HTTP_TOKEN: HTTP_TOKEN };

/** Every form a marker may be written in. */
function forms(): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const form = (s: string) => new URLSearchParams({ s }).toString().slice(2);
  const rfc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return {
    'client secret': CLIENT_SECRET,
    'client secret, URL-encoded': encodeURIComponent(CLIENT_SECRET),
    'client secret, form-encoded': form(CLIENT_SECRET),
    'client secret, base64': b64(CLIENT_SECRET).replace(/=+$/, ''),
    'Basic header, base64(id:secret)': b64(`${CLIENT_ID}:${CLIENT_SECRET}`).replace(/=+$/, ''),
    'Basic header, RFC 6749 encoding': b64(`${rfc(CLIENT_ID)}:${rfc(CLIENT_SECRET)}`).replace(/=+$/, ''),
    'bearer token': MARKER_TOKEN,
    'bearer token signature': MARKER_TOKEN.split('.')[2]!,
    'SQL password': SQL_PASSWORD,
    'HTTP token': HTTP_TOKEN,
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

let dir: string;
let sim: SimulatorHandle;
let connect: HostileConnect;
let tds: TdsServer;
let httpPort: number;
/** Everything a person or a probe could read, by where it came from. */
const outputs: { where: string; text: string }[] = [];

function writeConfig(edit: (c: Record<string, any>) => void = () => {}): string {
  const config: Record<string, any> = {
    source: { type: 'snapshot', path: join(dir, 'directory.json') },
    connect: {
      mode: 'remote',
      clientId: CLIENT_ID,
      clientSecret: { env: 'UDB_T_CLIENT_SECRET' },
      clientAuth: 'basic',
      apiBaseUrl: connect.url,
      tokenUrl: `${connect.url}/connect/token`,
      parentTenantExternalId: 'customer',
      businessUnitName: 'Visma Norway',
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    },
    programs: {
      VB: { applicationId: 'visma-business' },
      VDC: { applicationId: 'visma-document-center' },
      VR: { applicationId: 'visma-reporting' },
    },
    paths: { data: join(dir, 'data'), logs: join(dir, 'logs'), journal: join(dir, 'logs', 'journal') },
    logging: { dir: join(dir, 'logs'), console: 'text', level: 'debug' },
    daemon: {
      schedules: { delta: { cron: '* * * * * *', timezone: 'UTC' }, full: { cron: '0 0 1 1 *', timezone: 'UTC' } },
      http: { enabled: true, host: '127.0.0.1', port: httpPort, token: { env: 'UDB_T_HTTP_TOKEN' } },
    },
  };
  edit(config);
  const path = join(dir, 'ud-bridge.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

async function cli(args: string[]): Promise<void> {
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await run(process.execPath, [MAIN, ...args, '--config', join(dir, 'ud-bridge.yaml')], { env: { ...process.env, ...ENV, UD_BRIDGE_CONFIG: '' } }));
  } catch (e) {
    ({ stdout, stderr } = e as { stdout: string; stderr: string });
  }
  outputs.push({ where: `ud-bridge ${args.join(' ')} (stdout)`, text: stdout }, { where: `ud-bridge ${args.join(' ')} (stderr)`, text: stderr });
}

async function daemonAnswers(): Promise<void> {
  const child = spawn(process.execPath, [MAIN, 'daemon', '--config', join(dir, 'ud-bridge.yaml')], { env: { ...process.env, ...ENV, UD_BRIDGE_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const auth = { headers: { authorization: `Bearer ${HTTP_TOKEN}` } };
  const since = new Date().toISOString();
  const scheduledRun = (text: string) => (JSON.parse(text) as { lastRuns: { trigger: string; startedAt: string }[] }).lastRuns.some((r) => r.trigger === 'schedule' && r.startedAt >= since);
  try {
    // Progress, not time: wait until a run of this daemon is on its status page.
    let status = '{"lastRuns":[]}';
    for (let i = 0; i < 300 && !scheduledRun(status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        const res = await fetch(`http://127.0.0.1:${httpPort}/status`, auth);
        if (res.status === 200) status = await res.text();
      } catch {
        // not listening yet
      }
    }
    expect(scheduledRun(status)).toBe(true);
    outputs.push({ where: 'GET /status', text: status });
    outputs.push({ where: 'GET /healthz', text: await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).text() });
  } finally {
    child.kill('SIGTERM');
    await exited;
    outputs.push({ where: 'ud-bridge daemon (stdout and stderr)', text: out });
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'udb-secrets-'));
  copyFileSync(join(ROOT, 'config', 'sample-directory.json'), join(dir, 'directory.json'));
  sim = await startSimulator({ port: 0 });
  connect = await startHostileConnect(sim, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  httpPort = await freePort();
  const directory = JSON.parse(readFileSync(join(ROOT, 'config', 'sample-directory.json'), 'utf8')) as SampleDirectoryJson;
  // A SQL Server that refuses the login by echoing the password it was sent.
  tds = await startTdsServer({
    handler: viewHandler(sampleDirectoryViews(directory)),
    login: { user: 'ud_bridge', password: 'not-the-one-sent', failureMessage: (l) => `Login failed for user '${l.user}' with password '${l.password}'; connection string Server=x;Password=${l.password};` },
  });

  // 1. The token endpoint echoes each request (Basic auth first, then the form), as does every run of the daemon.
  connect.mode.token = 'echo';
  writeConfig();
  for (const args of [['sync'], ['sync', '--json'], ['status'], ['status', '--json'], ['doctor'], ['doctor', '--json']]) await cli(args);
  writeConfig((c) => (c.connect.clientAuth = 'form'));
  for (const args of [['sync'], ['doctor', '--json']]) await cli(args);
  await daemonAnswers();

  // 2. Tokens are fine; Add user answers with the request (the bearer token in it) echoed.
  connect.mode.token = 'ok';
  connect.mode.echo = ['POST /v1.0/users'];
  for (const args of [['sync'], ['sync', '--json'], ['sync', '--dry-run', '--plan-out', join(dir, 'plan.json')], ['status'], ['status', '--json'], ['journal'], ['journal', '--json']]) await cli(args);
  await daemonAnswers();

  // 3. SQL Server echoes the password.
  writeConfig((c) => {
    c.source = { type: 'sqlserver', sqlserver: { server: '127.0.0.1', port: tds.port, database: 'VUD', auth: { type: 'sql', user: 'ud_bridge', password: { env: 'UDB_T_SQL_PASSWORD' } }, encrypt: false, reconnect: { attempts: 0, initialDelayMs: 1, maxDelayMs: 5 } } };
  });
  for (const args of [['sync'], ['sync', '--json'], ['status', '--json'], ['doctor'], ['doctor', '--json']]) await cli(args);
}, 180_000);

afterAll(async () => {
  await connect?.close();
  await sim?.close();
  await tds?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('marker secrets after hostile answers echoed them', () => {
  it('the hostile servers did echo: the errors reached every output, redacted', () => {
    const all = outputs.map((o) => o.text).join('\n');
    expect(all).toMatch(/invalid_client/);
    expect(all).toMatch(/ERROR_VALIDATION/);
    expect(all).toMatch(/Login failed for user 'ud_bridge'/);
    expect(all).toContain('[redacted]');
    expect(tds.logins.some((l) => l.password === SQL_PASSWORD)).toBe(true);
  });

  it('no marker in any file the service wrote: journal, state database and WAL, logs, saved plan', () => {
    const files = filesUnder(dir).filter((f) => !f.endsWith('ud-bridge.yaml') && !f.endsWith('directory.json'));
    expect(files.some((f) => f.endsWith('state.sqlite'))).toBe(true);
    expect(files.some((f) => f.includes('journal'))).toBe(true);
    expect(files.some((f) => f.endsWith('plan.json'))).toBe(true);
    const leaks = files.flatMap((f) => {
      const bytes = readFileSync(f);
      return Object.entries(forms()).filter(([, v]) => bytes.includes(Buffer.from(v, 'utf8'))).map(([what]) => `${what} in ${f.slice(dir.length + 1)}`);
    });
    expect(leaks).toEqual([]);
  });

  it('no marker in any output: sync, status, doctor, journal (human and --json), /status, /healthz, the daemon console', () => {
    const leaks = outputs.flatMap((o) => Object.entries(forms()).filter(([, v]) => o.text.includes(v)).map(([what]) => `${what} in ${o.where}`));
    expect(leaks).toEqual([]);
  });
});
