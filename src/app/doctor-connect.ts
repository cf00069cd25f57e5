/**
 * `doctor`'s checks of Visma Connect: a token can be had, every scope ud-bridge uses is granted,
 * the customer tenant exists, the business unit and user defaults are ones Connect accepts, and
 * every application in the program map exists with the roles the config names in its catalog.
 * Nothing is written.
 */
import type { ResolvedConfig } from '../config/load.js';
import { ALL_CONNECT_SCOPES, CONNECT_SCOPES, createConnectClient, type ConnectClient, type ConnectClientOptions } from '../connect/client.js';
import { ConnectAuthError } from '../connect/errors.js';
import { createHttpTransport } from '../connect/http.js';
import type { NetworkSettings } from '../connect/network.js';
import { createTokenCache } from '../connect/token-cache.js';
import { describeError } from '../errors.js';
import { startSimulator } from '../sim/index.js';
import type { DoctorCheck } from './doctor-check.js';

export interface Endpoints {
  readonly apiBaseUrl: string;
  readonly tokenUrl: string;
  /** The route a run takes (proxy, CA); absent for the in-process simulator. */
  readonly network?: NetworkSettings;
}

/**
 * `check` against the configured Connect, over the route a run takes; in embedded mode against
 * the same in-process simulator a run would start, so the embedded demo is checked as it runs.
 */
export async function againstConnect<T>(config: ResolvedConfig, check: (at: Endpoints) => Promise<T>): Promise<T> {
  const c = config.connect;
  if (c.mode !== 'embedded') return check({ apiBaseUrl: c.apiBaseUrl, tokenUrl: c.tokenUrl, network: c.network });
  const sim = await startSimulator({ port: 0, statePath: c.embedded.statePath, ...(c.embedded.seed ? { seed: c.embedded.seed } : {}) });
  try {
    return await check({ apiBaseUrl: sim.url, tokenUrl: `${sim.url}/connect/token` });
  } finally {
    await sim.close();
  }
}

/** Doctor's client: the config's credentials and route, two calls in flight, at most two attempts. */
export function doctorClient(config: ResolvedConfig, at: Endpoints, scopes: readonly string[], extra: Partial<ConnectClientOptions> = {}): ConnectClient {
  return createConnectClient({
    apiBaseUrl: at.apiBaseUrl,
    tokenUrl: at.tokenUrl,
    clientId: config.connect.clientId,
    clientSecret: config.connect.clientSecret,
    clientAuth: config.connect.clientAuth,
    scopes,
    timeoutMs: config.connect.timeoutMs,
    ...(at.network ? { network: at.network } : {}),
    concurrency: 2,
    retry: { ...config.connect.retry, maxAttempts: Math.min(config.connect.retry.maxAttempts, 2) },
    maxRetryAfterMs: config.connect.maxRetryAfterMs,
    ...extra,
  });
}

export function connectChecks(config: ResolvedConfig): Promise<DoctorCheck[]> {
  return againstConnect(config, (at) => checksAgainst(config, at));
}

async function checksAgainst(config: ResolvedConfig, at: Endpoints): Promise<DoctorCheck[]> {
  const granted = await grantedScopes(config, at);
  if (!granted.ok) return [{ name: 'connect token', ok: false, detail: granted.detail }];
  const checks: DoctorCheck[] = [{ name: 'connect token', ok: true, detail: granted.detail }];
  // A run needs CONNECT_SCOPES; the rest only serve doctor's own reads (catalogs, business units).
  const missing = CONNECT_SCOPES.filter((s) => !granted.scopes.includes(s));
  const doctorOnly = ALL_CONNECT_SCOPES.filter((s) => !CONNECT_SCOPES.includes(s) && !granted.scopes.includes(s));
  const note = doctorOnly.length ? `; not granted, needed only by doctor's checks: ${doctorOnly.join(', ')}` : '';
  checks.push(
    missing.length === 0
      ? { name: 'connect scopes', ok: true, detail: `all ${CONNECT_SCOPES.length} scopes a run needs are granted${note}` }
      : { name: 'connect scopes', ok: false, detail: `not granted to ${config.connect.clientId}: ${missing.join(', ')} (grant them in the Developer Portal)${note}` },
  );
  const usable = ALL_CONNECT_SCOPES.filter((s) => granted.scopes.includes(s));
  const client = doctorClient(config, at, usable);
  try {
    checks.push(...(await applicationChecks(config, client)));
  } finally {
    await client.close();
  }
  return checks;
}

type Granted = { ok: true; scopes: readonly string[]; detail: string } | { ok: false; detail: string };

/**
 * Asks for a token with every scope a run asks for. A token endpoint refuses the whole request
 * (`invalid_scope`) when one scope is not granted; then a token without a scope parameter, which
 * carries every scope the client has, tells which ones are missing.
 */
async function grantedScopes(config: ResolvedConfig, at: Endpoints): Promise<Granted> {
  const transport = createHttpTransport({ timeoutMs: config.connect.timeoutMs, connections: 1, ...(at.network ? { network: at.network } : {}) });
  const tokens = (scopes: readonly string[]) =>
    createTokenCache({
      send: (req) => transport.send(req),
      tokenUrl: at.tokenUrl,
      clientId: config.connect.clientId,
      clientSecret: config.connect.clientSecret,
      clientAuth: config.connect.clientAuth,
      scopes,
      refreshBeforeSeconds: 60,
      now: Date.now,
    });
  const obtained = `token obtained for ${config.connect.clientId} from ${at.tokenUrl}`;
  try {
    const full = tokens(ALL_CONNECT_SCOPES);
    try {
      await full.get();
      // An endpoint that does not echo the scopes granted what was asked, or it would have refused.
      return { ok: true, scopes: full.grantedScopes ?? ALL_CONNECT_SCOPES, detail: obtained };
    } catch (e) {
      if (!(e instanceof ConnectAuthError && e.errorCode === 'invalid_scope')) throw e;
    }
    const any = tokens([]);
    await any.get();
    return { ok: true, scopes: any.grantedScopes ?? [], detail: `${obtained} (only without the full scope list)` };
  } catch (e) {
    return { ok: false, detail: `${describeError(e).message} (nothing else in Connect checked)` };
  } finally {
    await transport.close();
  }
}

async function applicationChecks(config: ResolvedConfig, client: ConnectClient): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const guard = async (name: string, run: () => Promise<DoctorCheck | DoctorCheck[]>): Promise<void> => {
    try {
      const r = await run();
      checks.push(...(Array.isArray(r) ? r : [r]));
    } catch (e) {
      checks.push({ name, ok: false, detail: describeError(e).message });
    }
  };
  const parentKey = config.connect.parentTenantExternalId;
  if (parentKey !== undefined) {
    await guard('connect parent tenant', async () => {
      const parent = (await client.listOwnTenants()).find((t) => t.externalId === parentKey);
      return parent === undefined
        ? { name: 'connect parent tenant', ok: false, detail: `connect.parentTenantExternalId: no tenant owned by ${client.clientId} has external_id ${parentKey}` }
        : { name: 'connect parent tenant', ok: true, detail: `${parentKey} is tenant ${parent.id}` };
    });
  }
  await guard('connect business unit', async () => {
    const units = await client.listBusinessUnits();
    const want = config.connect.businessUnitName;
    if (want === undefined) return { name: 'connect business unit', ok: false, detail: `connect.businessUnitName: not set; Add tenant requires one of ${units.join(', ')}` };
    return units.includes(want)
      ? { name: 'connect business unit', ok: true, detail: `${want} is a Visma business unit` }
      : { name: 'connect business unit', ok: false, detail: `connect.businessUnitName: ${JSON.stringify(want)} is not one of ${units.join(', ')}` };
  });
  await guard('connect user defaults', async () => {
    const [countries, languages] = await Promise.all([client.listCountries(), client.listLanguages()]);
    const problems: string[] = [];
    const country = config.userDefaults.countryCode;
    if (country !== undefined && !countries.some((c) => c.iso2Code === country)) problems.push(`userDefaults.countryCode: ${country} is not a country Connect accepts`);
    const language = config.userDefaults.preferredLanguage;
    if (!languages.some((l) => l.code === language || language.startsWith(`${l.code}-`))) problems.push(`userDefaults.preferredLanguage: ${language} is not a language Connect accepts`);
    return problems.length === 0
      ? { name: 'connect user defaults', ok: true, detail: `country ${country ?? '(from each VUD row)'}, language ${language}` }
      : { name: 'connect user defaults', ok: false, detail: problems.join('; ') };
  });
  for (const [key, p] of Object.entries(config.programs)) {
    await guard(`program ${key}`, async () => {
      const app = await client.getApplication({ applicationId: p.applicationId });
      const catalog = await client.listApplicationRoles({ applicationId: p.applicationId });
      const name = `program ${key}`;
      if (p.roles === undefined) return { name, ok: true, detail: `application ${p.applicationId} (${app.name ?? 'no name'}) has ${catalog.length} roles; programs.${key}.roles is not set, so roles are not checked before a call` };
      const unknown = p.roles.filter((r) => !catalog.includes(r));
      const unused = catalog.filter((r) => !p.roles!.includes(r));
      if (unknown.length > 0) return { name, ok: false, detail: `programs.${key}.roles: not in the catalog of ${p.applicationId}: ${unknown.join(', ')}` };
      return { name, ok: true, detail: `application ${p.applicationId} (${app.name ?? 'no name'}): every configured role is in its catalog${unused.length ? `; the catalog also has ${unused.join(', ')}` : ''}` };
    });
  }
  return checks;
}
