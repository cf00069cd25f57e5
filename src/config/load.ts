/**
 * Reads the YAML config, applies environment overrides, validates it against the one schema and
 * resolves secrets and relative paths. Every failure is a ConfigError naming the key.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DIRECT, envProxyPasswords, networkSettings, type NetworkSettings } from '../connect/network.js';
import { configSchema, SECRET_PATHS, secretRefSchema, type ParsedConfig, type SecretRef } from './schema.js';

export const ENV_PREFIX = 'UDB_';

export interface ResolvedConfig extends Omit<ParsedConfig, 'connect'> {
  readonly connect: ParsedConfig['connect'] & {
    /** The route to Connect: config's proxy or the environment's, and the CA file (absolute). */
    readonly network: NetworkSettings;
  };
  /** Absolute path of the file it came from. */
  readonly configPath: string;
  /** Every resolved secret value, for the log and journal redactor. */
  readonly secretValues: readonly string[];
}

/** The package root: two levels above this file both in src/config and dist/config. */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.UD_BRIDGE_CONFIG ?? resolve(packageRoot, 'config', 'ud-bridge.yaml');
}

/**
 * `skip` leaves secrets unread (a placeholder takes their place): for commands that only read local
 * files, such as `journal` and `status`, which an admin must be able to run without the secrets.
 * `run` reads what a sync needs and leaves out the daemon's HTTP token (unset) and the webhook
 * secrets (a placeholder): a manual `sync` on a host where only the service has them in its
 * environment must still work.
 * `{only: [keys]}` reads just those (`webhook test` needs the webhook secret, not the SQL password).
 */
export type SecretsMode = 'resolve' | 'skip' | 'run' | { readonly only: readonly string[] };

/** Secrets only the daemon uses. */
const DAEMON_ONLY_SECRETS = new Set(['daemon.http.token']);
/** Secrets only the daemon's webhook listener uses; a placeholder keeps `webhooks.enabled` valid without them. */
const WEBHOOK_SECRETS = new Set(['webhooks.secret', 'webhooks.previousSecret']);

/** Long enough for every secret's length rule, so a config valid with secrets stays valid without. */
const UNREAD_SECRET = '(secret not read by this command)';

/** The placeholder is public text: nothing may ever verify or sign with it. */
export function isUnreadSecret(value: string | undefined): boolean {
  return value === UNREAD_SECRET;
}

export function loadConfig(options: { path?: string; env?: NodeJS.ProcessEnv; secrets?: SecretsMode } = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const configPath = resolve(options.path ?? defaultConfigPath(env));
  if (!existsSync(configPath)) throw new ConfigError('(file)', `no config file at ${configPath}`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(configPath, 'utf8')) ?? {};
  } catch (e) {
    const where = e instanceof YAMLParseError && e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new ConfigError('(file)', `${configPath} is not valid YAML${where}`, { cause: e });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError('(file)', `${configPath} must hold a YAML mapping at the top level`);
  }
  applyEnvOverrides(raw as Record<string, unknown>, env);
  return resolveConfig(raw, configPath, env, options.secrets ?? 'resolve');
}

/** Validates an already-parsed object (tests and the YAML loader share this path). */
export function resolveConfig(raw: unknown, configPath: string, env: NodeJS.ProcessEnv = process.env, secrets: SecretsMode = 'resolve'): ResolvedConfig {
  const base = dirname(configPath);
  const secretValues = resolveSecrets(raw, env, base, secrets);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configErrorFrom(parsed.error);
  const config = parsed.data;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const caFile = config.connect.caFile === undefined ? undefined : abs(config.connect.caFile);
  // Commands that only read local files never connect: a proxy variable they cannot use is not theirs to refuse.
  // Nor does one that reads only some secrets (`webhook test` talks to our own listener, not to Connect).
  const network = secrets === 'skip' || typeof secrets === 'object' ? DIRECT : networkSettings(config.connect, env, caFile ?? null);
  // A password in HTTPS_PROXY never reaches a log line either.
  if (secrets !== 'skip') secretValues.push(...envProxyPasswords(env));
  const source = config.source.type === 'snapshot' ? { ...config.source, path: abs(config.source.path) } : config.source;

  return {
    ...config,
    source,
    connect: {
      ...config.connect,
      ...(caFile === undefined ? {} : { caFile }),
      network,
      embedded: {
        ...config.connect.embedded,
        statePath: abs(config.connect.embedded.statePath),
        ...(config.connect.embedded.seed === undefined ? {} : { seed: abs(config.connect.embedded.seed) }),
      },
    },
    paths: { data: abs(config.paths.data), logs: abs(config.paths.logs), journal: abs(config.paths.journal) },
    webhooks: { ...config.webhooks, ...(config.webhooks.tls === undefined ? {} : { tls: { cert: abs(config.webhooks.tls.cert), key: abs(config.webhooks.tls.key) } }) },
    logging: { ...config.logging, dir: abs(config.logging.dir) },
    configPath,
    secretValues: [...secretValues, ...basicCredentials(config.connect.clientId, config.connect.clientSecret)],
  };
}

/**
 * The `id:secret` pairs HTTP Basic sends base64-encoded (as is, and URL-encoded first as RFC 6749
 * 2.3.1 asks): the redactor treats them as secrets, so base64(id:secret) is caught like the secret.
 */
function basicCredentials(clientId: string, clientSecret: string): string[] {
  if (clientSecret === UNREAD_SECRET) return [];
  const rfc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return [...new Set([`${clientId}:${clientSecret}`, `${rfc(clientId)}:${rfc(clientSecret)}`])];
}

/** Replaces each secret reference in `raw` by its value (in place) and returns the values. */
function resolveSecrets(raw: unknown, env: NodeJS.ProcessEnv, base: string, mode: SecretsMode): string[] {
  const values: string[] = [];
  for (const path of SECRET_PATHS) {
    let node = raw as Record<string, unknown> | undefined;
    for (const segment of path.slice(0, -1)) {
      const next = node?.[segment];
      node = typeof next === 'object' && next !== null ? (next as Record<string, unknown>) : undefined;
    }
    const leaf = path[path.length - 1]!;
    if (!node || node[leaf] === undefined) continue;
    const key = path.join('.');
    const ref = secretRefSchema.safeParse(node[leaf]);
    if (!ref.success) throw new ConfigError(key, 'expected the secret as text, {env: NAME} or {file: PATH}');
    if (mode === 'skip' || (typeof mode === 'object' && !mode.only.includes(key)) || (mode === 'run' && WEBHOOK_SECRETS.has(key))) {
      node[leaf] = UNREAD_SECRET;
      continue;
    }
    if (mode === 'run' && DAEMON_ONLY_SECRETS.has(key)) {
      delete node[leaf];
      continue;
    }
    const value = resolveSecret(key, ref.data, env, base);
    node[leaf] = value;
    values.push(value);
  }
  return values;
}

export function resolveSecret(key: string, ref: SecretRef, env: NodeJS.ProcessEnv, baseDir: string): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') throw new ConfigError(key, `expected environment variable ${ref.env} to be set`);
    return value;
  }
  const file = isAbsolute(ref.file) ? ref.file : resolve(baseDir, ref.file);
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value === '') throw new ConfigError(key, `expected the secret file ${file} to hold a value, it is empty`);
    return value;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(key, `expected a readable secret file at ${file}`, { cause: e });
  }
}

/**
 * `UDB_CONNECT__CLIENT_ID=x` sets connect.clientId: `__` separates levels (at least two), each
 * level is written in SNAKE_CASE and becomes camelCase. Values are read as YAML scalars.
 */
export function applyEnvOverrides(target: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const path = name.slice(ENV_PREFIX.length).split('__').map(snakeToCamel);
    // Every setting sits at least one level deep; `UDB_X` alone is someone's variable, not ours.
    if (path.length < 2 || path.some((p) => p === '')) continue;
    let node: Record<string, unknown> = target;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[segment] = {};
      node = node[segment] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseScalar(value);
  }
}

function snakeToCamel(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseScalar(value: string): unknown {
  try {
    const v: unknown = parseYaml(value);
    return v === null || typeof v === 'object' ? value : v;
  } catch {
    return value;
  }
}

export function configErrorFrom(error: z.ZodError): ConfigError {
  const keyOf = (i: z.core.$ZodIssue) => (i.path.length ? i.path.join('.') : '(top level)');
  // Some sub-schemas (daemon, logging) already start their messages with the key: say it once.
  const messageOf = (i: z.core.$ZodIssue) => (i.message.startsWith(`${keyOf(i)}: `) ? i.message.slice(keyOf(i).length + 2) : i.message);
  const lines = error.issues.map((i) => `${keyOf(i)}: ${messageOf(i)}`);
  const first = error.issues[0];
  const key = first ? keyOf(first) : '(top level)';
  const expected = first ? messageOf(first) + (lines.length > 1 ? `; also ${lines.slice(1).join('; ')}` : '') : 'invalid';
  return new ConfigError(key, expected, { details: { issues: lines } });
}
