/**
 * Write-ahead intents: before every call that creates or links, an intent is stored; after it,
 * its outcome. A crash between the call and the state write leaves an open intent, which the next
 * run resolves before it plans, so a retry can never create a duplicate or link the wrong account.
 */
import { ConnectConflictError } from '../connect/errors.js';
import type { ConnectApi } from '../connect/port.js';
import type { Op } from '../domain/plan.js';
import { targetKey } from '../domain/plan.js';
import type { Journal } from '../journal/events.js';
import type { StateStore } from '../state/store.js';
import type { OpResult } from '../apply/executor.js';

/** The kinds whose call can leave something behind in Connect that our state does not know yet. */
const INTENT_KINDS = new Set<Op['kind']>(['tenant.create', 'tenant.link', 'user.create', 'user.link']);

export function withIntent(store: StateStore, runId: string) {
  return async (op: Op, call: () => Promise<OpResult['outcome']>): Promise<OpResult['outcome']> => {
    if (!INTENT_KINDS.has(op.kind)) return call();
    const email = (op.after as { email?: unknown } | null)?.email;
    // The raw VUD key (not the op id's escaped form): resolution looks the object up by it.
    const key = op.target.type === 'company' ? op.target.companyKey : op.target.type === 'user' ? op.target.userKey : targetKey(op.target);
    const id = store.beginIntent(runId, op.id, op.kind, key, typeof email === 'string' ? { email } : null);
    try {
      const outcome = await call();
      store.finishIntent(id, outcome, null);
      return outcome;
    } catch (e) {
      store.finishIntent(id, 'failed', { code: (e as { code?: string }).code ?? 'UNEXPECTED' });
      throw e;
    }
  };
}

/**
 * Resolves what earlier runs left open, by anchor first. A tenant is found by its external id
 * among the tenants we own (unique per owner). An account is found by the VUD user key as our
 * external id; an Add user that stopped before the external id was set left an account linked to
 * us with that email and no anchor, which is adopted only if it takes ours (a claim that fails on
 * an account carrying another user's key), never by email alone.
 */
export async function resolveOpenIntents(store: StateStore, connect: ConnectApi, journal: Journal, runId: string): Promise<number> {
  const open = store.openIntents();
  let ownTenants: Awaited<ReturnType<ConnectApi['listOwnTenants']>> | undefined;
  for (const intent of open) {
    let note: string;
    if (intent.kind === 'tenant.create' || intent.kind === 'tenant.link') {
      const companyKey = intent.targetKey;
      ownTenants ??= await connect.listOwnTenants();
      const t = ownTenants.find((x) => x.externalId === companyKey);
      if (t) store.recordTenant(companyKey, { tenantId: t.id, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match: intent.kind === 'tenant.create' ? 'created' : 'hard' });
      note = t ? `tenant ${t.id} with external_id ${companyKey} exists; linked` : `no tenant with external_id ${companyKey}; it will be planned again`;
    } else {
      note = await resolveAccount(store, connect, intent.targetKey, intent.detail);
    }
    store.finishIntent(intent.id, 'resolved', { note });
    journal.write({
      type: 'op.skipped',
      runId,
      level: 'warn',
      opId: intent.opId,
      kind: intent.kind,
      entity: { type: intent.kind.startsWith('tenant') ? 'company' : 'user', key: intent.targetKey },
      reason: `an earlier run (${intent.runId}) stopped during this call; resolved: ${note}`,
    });
  }
  return open.length;
}

async function resolveAccount(store: StateStore, connect: ConnectApi, userKey: string, detail: unknown): Promise<string> {
  if (store.user(userKey)?.linked) return `user ${userKey} is linked already`;
  const anchored = await connect.findUsersByExternalId({ applicationId: connect.clientId, externalId: userKey });
  if (anchored.length === 1) {
    store.recordUser(userKey, { userId: anchored[0]!.id, linked: true, externalIdSet: true });
    return `account ${anchored[0]!.id} carries ${userKey} as our external id; recorded`;
  }
  if (anchored.length > 1) return `${anchored.length} accounts carry ${userKey} as our external id (${anchored.map((a) => a.id).join(', ')}); none adopted`;
  const email = (detail as { email?: unknown } | null)?.email;
  if (typeof email !== 'string') return `no account carries ${userKey} and no email was recorded; it will be planned again`;
  const linked = (await connect.listLinkedUsers({ email })).filter((u) => u.email.toLowerCase() === email.toLowerCase());
  const u = linked[0];
  if (!u) return `no account linked to ud-bridge has ${email}; it will be planned again`;
  const holder = store.userKeyOf(u.id);
  if (holder !== undefined && holder !== userKey) return `account ${u.id} with that email is linked to ${holder}; not adopted`;
  try {
    await connect.setUserExternalId({ userId: u.id, applicationId: connect.clientId, externalId: userKey });
  } catch (e) {
    if (e instanceof ConnectConflictError && e.errorCode === 'ERROR_EXTERNAL_ID_ALREADY_ADDED') return `account ${u.id} with that email carries another user's external id; not adopted`;
    throw e;
  }
  store.recordUser(userKey, { userId: u.id, linked: true, externalIdSet: true });
  return `account ${u.id} was linked by that call; anchored to ${userKey} and recorded`;
}
