/**
 * Write-ahead intents: before every call that creates or links, an intent is stored; after it,
 * its outcome. A crash between the call and the state write leaves an open intent, which the next
 * run resolves before it plans, so a retry can never create a duplicate or link the wrong account.
 */
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
 * Resolves what earlier runs left open. A tenant is found by its external id among ours (it is
 * unique per owner). An account cannot be searched by our external id; Add user links it to us,
 * so it is looked for among the accounts linked to ud-bridge with the email the call was made
 * with, and adopted only if its anchor is empty or this user's key (never another user's).
 */
export async function resolveOpenIntents(store: StateStore, connect: ConnectApi, journal: Journal, runId: string): Promise<number> {
  const open = store.openIntents();
  for (const intent of open) {
    let note: string;
    if (intent.kind === 'tenant.create' || intent.kind === 'tenant.link') {
      const companyKey = intent.targetKey;
      let found: string | undefined;
      for await (const t of connect.searchTenants({ externalId: companyKey })) {
        if (t.externalId === companyKey && t.ownerClientId === connect.clientId) {
          found = t.id;
          store.recordTenant(companyKey, { tenantId: t.id, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, match: intent.kind === 'tenant.create' ? 'created' : 'hard' });
        }
      }
      note = found ? `tenant ${found} with external_id ${companyKey} exists; linked` : `no tenant with external_id ${companyKey}; it will be planned again`;
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
  const email = (detail as { email?: unknown } | null)?.email;
  if (store.user(userKey)?.linked) return `user ${userKey} is linked already`;
  if (typeof email !== 'string') return `no email recorded; the account for ${userKey} is re-checked by the next Add user`;
  for await (const u of connect.searchUsers({ email })) {
    if (u.email.toLowerCase() !== email.toLowerCase()) continue;
    const anchor = (await connect.listUserApplications({ userId: u.id })).find((a) => a.applicationId === connect.clientId)?.externalId ?? null;
    const holder = store.userKeyOf(u.id);
    if ((anchor === null || anchor === userKey) && (holder === undefined || holder === userKey)) {
      store.recordUser(userKey, { userId: u.id, linked: true, externalIdSet: anchor === userKey });
      return `account ${u.id} was linked by that call; recorded for ${userKey}`;
    }
    return `account ${u.id} with that email belongs to ${anchor ?? holder}; not adopted`;
  }
  return `no account linked to ud-bridge has ${email}; it will be planned again`;
}
