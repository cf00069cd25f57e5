/**
 * `doctor`'s checks of Visma Connect: a token can be had, every scope ud-bridge uses is granted,
 * the customer tenant exists, and every application in the program map is known. Nothing is
 * written: the Public API has no "list applications" operation, so an application counts as known
 * when it is on the customer tenant's hierarchy or on a tenant ud-bridge has linked.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { CONNECT_SCOPES, createConnectClient, type ConnectClient } from '../connect/client.js';
import { ConnectAuthError } from '../connect/errors.js';
import { createHttpTransport } from '../connect/http.js';
import type { NetworkSettings } from '../connect/network.js';
import { createTokenCache } from '../connect/token-cache.js';
import { describeError } from '../errors.js';
import { startSimulator } from '../sim/index.js';
import { StateStore } from '../state/store.js';
import type { DoctorCheck } from './doctor.js';

interface Endpoints {
  readonly apiBaseUrl: string;
  readonly tokenUrl: string;
  /** The route a run takes (proxy, CA); absent for the in-process simulator. */
  readonly network?: NetworkSettings;
}

export async function connectChecks(config: ResolvedConfig): Promise<DoctorCheck[]> {
  const c = config.connect;
  if (c.mode !== 'embedded') return checksAgainst(config, { apiBaseUrl: c.apiBaseUrl, tokenUrl: c.tokenUrl, network: c.network });
  // The same in-process simulator a run would start, so the embedded demo is checked as it runs.
  const sim = await startSimulator({ port: 0, statePath: c.embedded.statePath, ...(c.embedded.seed ? { seed: c.embedded.seed } : {}) });
  try {
    return await checksAgainst(config, { apiBaseUrl: `${sim.url}/v1.0`, tokenUrl: `${sim.url}/connect/token` });
  } finally {
    await sim.close();
  }
}

async function checksAgainst(config: ResolvedConfig, at: Endpoints): Promise<DoctorCheck[]> {
  const granted = await grantedScopes(config, at);
  if (!granted.ok) return [{ name: 'connect token', ok: false, detail: granted.detail }];
  const checks: DoctorCheck[] = [{ name: 'connect token', ok: true, detail: granted.detail }];
  const missing = CONNECT_SCOPES.filter((s) => !granted.scopes.includes(s));
  checks.push(
    missing.length === 0
      ? { name: 'connect scopes', ok: true, detail: `all ${CONNECT_SCOPES.length} scopes granted` }
      : { name: 'connect scopes', ok: false, detail: `not granted to ${config.connect.clientId}: ${missing.join(', ')} (grant them in the Developer Portal)` },
  );
  const usable = CONNECT_SCOPES.filter((s) => granted.scopes.includes(s));
  const client = createConnectClient({
    apiBaseUrl: at.apiBaseUrl,
    tokenUrl: at.tokenUrl,
    clientId: config.connect.clientId,
    clientSecret: config.connect.clientSecret,
    clientAuth: config.connect.clientAuth,
    scopes: usable,
    timeoutMs: config.connect.timeoutMs,
    ...(at.network ? { network: at.network } : {}),
    concurrency: 2,
    retry: { ...config.connect.retry, maxAttempts: Math.min(config.connect.retry.maxAttempts, 2) },
    maxRetryAfterMs: config.connect.maxRetryAfterMs,
  });
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
    const full = tokens(CONNECT_SCOPES);
    try {
      await full.get();
      // An endpoint that does not echo the scopes granted what was asked, or it would have refused.
      return { ok: true, scopes: full.grantedScopes ?? CONNECT_SCOPES, detail: obtained };
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
  /** Tenants whose hierarchy can vouch for an application, the customer tenant first. */
  const anchors: { id: string; what: string }[] = [];
  const parentKey = config.connect.parentTenantExternalId;
  try {
    if (parentKey !== undefined) {
      let parentId: string | undefined;
      for await (const t of client.searchTenants({ externalId: parentKey })) {
        if (t.ownerClientId === client.clientId && t.externalId === parentKey) parentId = t.id;
      }
      checks.push(
        parentId === undefined
          ? { name: 'connect parent tenant', ok: false, detail: `connect.parentTenantExternalId: no tenant owned by ${client.clientId} has external_id ${parentKey}` }
          : { name: 'connect parent tenant', ok: true, detail: `${parentKey} is tenant ${parentId}` },
      );
      if (parentId !== undefined) anchors.push({ id: parentId, what: "the customer tenant's hierarchy" });
    }
    for (const id of linkedTenants(config.paths.data)) anchors.push({ id, what: `linked tenant ${id}` });

    const wanted = Object.entries(config.programs);
    const found = new Map<string, string>();
    const seen = new Set<string>();
    for (const anchor of anchors) {
      if (wanted.every(([, p]) => found.has(p.applicationId))) break;
      if (seen.has(anchor.id)) continue;
      seen.add(anchor.id);
      for (const a of await client.listHierarchyApplications({ tenantId: anchor.id })) {
        seen.add(a.tenantId);
        if (!found.has(a.applicationId)) found.set(a.applicationId, anchor.what);
      }
    }
    for (const [key, p] of wanted) {
      const where = found.get(p.applicationId);
      checks.push(
        where === undefined
          ? { name: `program ${key}`, ok: false, detail: `unknown application: not on the customer tenant's hierarchy (${p.applicationId})` }
          : { name: `program ${key}`, ok: true, detail: `application ${p.applicationId} found on ${where}` },
      );
    }
  } catch (e) {
    checks.push({ name: 'connect applications', ok: false, detail: describeError(e).message });
  }
  return checks;
}

/** Tenant ids from the state a previous run left, if any; doctor never creates the database. */
function linkedTenants(dataDir: string): string[] {
  if (!existsSync(join(dataDir, 'state.sqlite'))) return [];
  const store = StateStore.open(dataDir);
  try {
    return store.observed().tenants.map((t) => t.tenantId);
  } finally {
    store.close();
  }
}
