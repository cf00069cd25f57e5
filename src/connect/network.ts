/**
 * How ud-bridge reaches Connect from a customer's network: directly, or through an outbound HTTP
 * proxy (from config, or from the HTTPS_PROXY / HTTP_PROXY / NO_PROXY environment every other tool
 * on the server already uses), trusting an extra CA bundle for proxies that inspect TLS.
 *
 * The route of a request is decided here, by one function, for the transport and for `doctor`
 * alike, so what doctor reports is what a run does. undici's EnvHttpProxyAgent has its own
 * NO_PROXY matcher; using it would let the two drift apart.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../errors.js';

export interface ProxyAuth {
  readonly username: string;
  readonly password: string;
  /** Where the credentials came from: `connect.proxy.username` or the environment variable. */
  readonly from: string;
}

export interface ProxyRoute {
  /** The proxy's origin, never with credentials in it (it is printed). */
  readonly url: string;
  /** `connect.proxy.url`, or the environment variable it was read from. */
  readonly from: string;
  readonly auth: ProxyAuth | null;
}

export interface NetworkSettings {
  /** For http:// targets (tests, a local simulator). */
  readonly httpProxy: ProxyRoute | null;
  /** For https:// targets: Connect itself. */
  readonly httpsProxy: ProxyRoute | null;
  /** NO_PROXY-style entries: `*`, a host, `.domain`, `host:port`, an IP or an IP/prefix range. */
  readonly noProxy: readonly string[];
  /** An extra PEM bundle trusted beside Node's built-in roots; absolute path. */
  readonly caFile: string | null;
}

export const DIRECT: NetworkSettings = { httpProxy: null, httpsProxy: null, noProxy: [], caFile: null };

/** The config's `connect.proxy` and `connect.caFile`, as the schema gives them. */
export interface NetworkConfig {
  readonly proxy: {
    readonly url?: string | undefined;
    readonly username?: string | undefined;
    readonly password?: string | undefined;
    readonly noProxy: readonly string[];
    readonly fromEnv: boolean;
  };
  readonly caFile?: string | undefined;
}

/**
 * `connect.proxy.url` wins; without it the environment decides (lower-case names first, as curl
 * and undici read them; an https target falls back to HTTP_PROXY). `connect.proxy.noProxy` is
 * added to NO_PROXY. The config's credentials apply to whichever proxy is used.
 */
export function networkSettings(config: NetworkConfig, env: NodeJS.ProcessEnv, caFile: string | null = config.caFile ?? null): NetworkSettings {
  const p = config.proxy;
  const configAuth: ProxyAuth | null = p.username !== undefined && p.password !== undefined
    ? { username: p.username, password: p.password, from: 'connect.proxy.username' }
    : null;
  if (p.url !== undefined) {
    const route = proxyRoute(p.url, 'connect.proxy.url', configAuth, false);
    return { httpProxy: route, httpsProxy: route, noProxy: splitNoProxy(p.noProxy.join(',')), caFile };
  }
  if (!p.fromEnv) return { httpProxy: null, httpsProxy: null, noProxy: [], caFile };
  const read = (names: readonly string[]): ProxyRoute | null => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value.trim() !== '') return proxyRoute(value.trim(), name, configAuth, true);
    }
    return null;
  };
  const httpProxy = read(['http_proxy', 'HTTP_PROXY']);
  const httpsProxy = read(['https_proxy', 'HTTPS_PROXY']) ?? httpProxy;
  const envNoProxy = env.no_proxy ?? env.NO_PROXY ?? '';
  return { httpProxy, httpsProxy, noProxy: splitNoProxy([envNoProxy, ...p.noProxy].join(',')), caFile };
}

/** Every proxy password the environment holds, for the redactor (the config's are secrets already). */
export function envProxyPasswords(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) {
    const value = env[name];
    if (value === undefined) continue;
    try {
      const password = decodeURIComponent(new URL(withScheme(value.trim())).password);
      if (password !== '') out.push(password);
    } catch {
      // An unreadable value fails later with a config error naming the variable.
    }
  }
  return out;
}

function withScheme(value: string): string {
  // `proxy.corp:3128` is common in the environment; curl reads it as http.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
}

function proxyRoute(value: string, from: string, configAuth: ProxyAuth | null, fromEnv: boolean): ProxyRoute {
  const key = fromEnv ? `${from} (environment)` : from;
  let url: URL;
  try {
    url = new URL(fromEnv ? withScheme(value) : value);
  } catch {
    throw new ConfigError(key, `expected a proxy URL such as http://proxy.example:3128, got ${JSON.stringify(redactUserinfo(value))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(key, `expected an http:// or https:// proxy URL, got ${url.protocol}`);
  }
  let auth = configAuth;
  if (url.username !== '' || url.password !== '') {
    if (!fromEnv) {
      throw new ConfigError(key, 'expected a proxy URL without credentials: put them in connect.proxy.username and connect.proxy.password (a secret)');
    }
    auth ??= { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password), from };
  }
  return { url: url.origin, from, auth };
}

function redactUserinfo(value: string): string {
  return value.replace(/\/\/[^/@]*@/, '//***@');
}

function splitNoProxy(raw: string): string[] {
  return raw.split(/[\s,]+/).map((e) => e.trim().toLowerCase()).filter((e) => e !== '');
}

export type Route =
  | { readonly kind: 'direct'; readonly noProxyEntry: string | null }
  | { readonly kind: 'proxy'; readonly proxy: ProxyRoute };

export function routeFor(settings: NetworkSettings, target: URL): Route {
  const proxy = target.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  if (proxy === null) return { kind: 'direct', noProxyEntry: null };
  const entry = noProxyMatch(settings.noProxy, target);
  return entry === null ? { kind: 'proxy', proxy } : { kind: 'direct', noProxyEntry: entry };
}

/** The NO_PROXY entry that sends `target` direct, or null. Names are matched, never resolved. */
export function noProxyMatch(entries: readonly string[], target: URL): string | null {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  const port = target.port === '' ? (target.protocol === 'https:' ? '443' : '80') : target.port;
  for (const entry of entries) {
    if (entry === '*') return entry;
    if (entry.includes('/')) {
      if (inRange(entry, host)) return entry;
      continue;
    }
    const { name, port: entryPort } = splitHostPort(entry);
    if (entryPort !== null && entryPort !== port) continue;
    const domain = name.replace(/^\*?\./, '').replace(/\.$/, '');
    if (domain === '') continue;
    if (host === domain || (isIP(host) === 0 && host.endsWith(`.${domain}`))) return entry;
  }
  return null;
}

function splitHostPort(entry: string): { name: string; port: string | null } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { name: bracketed[1]!, port: bracketed[2] ?? null };
  // A bare IPv6 address has several colons and no port.
  if (isIP(entry) === 6) return { name: entry, port: null };
  const m = /^(.*):(\d+)$/.exec(entry);
  return m ? { name: m[1]!, port: m[2]! } : { name: entry, port: null };
}

function inRange(entry: string, host: string): boolean {
  const [address, prefixText] = entry.split('/');
  const family = isIP(address ?? '');
  const prefix = Number(prefixText);
  if (family === 0 || isIP(host) !== family || !Number.isInteger(prefix)) return false;
  const list = new BlockList();
  try {
    list.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** One line for doctor and errors: `direct`, `direct (NO_PROXY entry x)`, `via proxy URL (…)`. */
export function describeRoute(route: Route): string {
  if (route.kind === 'direct') return route.noProxyEntry === null ? 'direct' : `direct (no-proxy entry ${route.noProxyEntry})`;
  const p = route.proxy;
  const auth = p.auth === null ? 'no proxy credentials' : `as ${p.auth.username}, credentials from ${p.auth.from}`;
  return `via proxy ${p.url} (from ${p.from}, ${auth})`;
}

export interface CaBundle {
  readonly file: string;
  /** Each certificate of the file, PEM. */
  readonly pems: readonly string[];
  readonly certificates: readonly { readonly subject: string; readonly validTo: string }[];
}

/** Reads and checks `connect.caFile`: PEM certificates, at least one, each one parseable. */
export function readCaBundle(file: string): CaBundle {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('connect.caFile', `expected a readable PEM file at ${file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: e });
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new ConfigError('connect.caFile', `expected PEM certificates (-----BEGIN CERTIFICATE-----) in ${file}, found none`);
  const certificates = pems.map((pem, i) => {
    try {
      const c = new X509Certificate(pem);
      return { subject: c.subject.replace(/\n/g, ', '), validTo: c.validTo };
    } catch (e) {
      throw new ConfigError('connect.caFile', `certificate ${i + 1} of ${file} cannot be read as X.509`, { cause: e });
    }
  });
  return { file, pems, certificates };
}

/** The trust list for TLS: Node's built-in roots plus the bundle (a bare `ca` would replace them). */
export function trustedCas(bundle: CaBundle | null): string[] | undefined {
  return bundle === null ? undefined : [...rootCertificates, ...bundle.pems];
}
