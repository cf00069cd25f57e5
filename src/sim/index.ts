/**
 * startSimulator: a faithful Visma Connect Public API on one port (token endpoint at
 * /connect/token, the API under /v1.0, admin routes under /_sim/). See ../../README.md.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { registerAdminRoutes, type AdminTarget } from './admin.js';
import { badRequest, notFound } from './api-error.js';
import { TokenIssuer } from './auth.js';
import { RequestCounters } from './counters.js';
import { FaultInjector, parseFaults } from './faults.js';
import { readStateFile, StateWriter } from './persistence.js';
import { RateLimiter } from './rate-limit.js';
import { loadSeed, parseSeed, type SimDump, type SimSeed } from './seed.js';
import { buildServer, type SimCore } from './server.js';
import { SimStore, type SubscriptionRec } from './store.js';
import type { SimHandle, SimOptions } from './types.js';
import { changeName } from './profile-changes.js';
import { changeEmail } from './users.js';
import { notifyUserModified, WebhookDispatcher } from './webhooks.js';
import { defaultContract } from '../connect/contract.js';
import { CONTRACT_LOG_ENV, ContractRecorder } from './contract-check.js';

export type { FaultSettings, SimCounters, SimHandle, SimOptions, RateLimitSettings } from './types.js';
export type { SimDump, SimSeed } from './seed.js';
export { OPERATIONS } from './types.js';
export type { ContractViolation } from './contract-check.js';
export { SimApiError, SimSeedError } from './api-error.js';
export { defaultSeedPath } from './seed.js';
export { signature as webhookSignature } from './webhooks.js';

export interface SimulatorHandle extends SimHandle, AdminTarget {}

export async function startSimulator(options: SimOptions = {}): Promise<SimulatorHandle> {
  const log = options.log ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  const ttl = options.tokenTtlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl < 1) throw new RangeError('tokenTtlSeconds: must be an integer >= 1');
  let baseSeed: SimDump = loadSeed(options.seed);
  const persisted = options.statePath !== undefined ? readStateFile(options.statePath) : undefined;
  const store = new SimStore(persisted ?? baseSeed);

  const writer = options.statePath !== undefined ? new StateWriter(options.statePath, () => store.dump(), log) : null;
  const changed = (): void => writer?.schedule();
  const limiter = new RateLimiter(options.rateLimit);
  const faults = new FaultInjector(options.faults, options.randomSeed ?? randomInt(2 ** 31));
  const counters = new RequestCounters();
  const webhooks = new WebhookDispatcher({
    maxAttempts: options.webhook?.maxAttempts ?? 5,
    baseDelayMs: options.webhook?.baseDelayMs ?? 1000,
    log,
  });
  // The issuer name is only known after listen(); tokens carry it as `iss`.
  let issuerUrl = `http://${host}:${options.port ?? 4010}`;
  let oldShape = options.oldShape === true;
  const recorder = new ContractRecorder(options.contractLog === undefined ? (process.env[CONTRACT_LOG_ENV] || null) : options.contractLog);
  const core: SimCore = {
    contract: defaultContract(),
    recorder,
    oldShape: () => oldShape,
    store,
    issuer: new TokenIssuer(() => issuerUrl, ttl),
    limiter,
    faults,
    counters,
    changed,
    log,
  };
  const app = buildServer(core);

  const handle: SimulatorHandle = {
    get url() {
      return issuerUrl;
    },
    get port() {
      return Number(new URL(issuerUrl).port);
    },
    async close() {
      await app.close();
      await webhooks.close();
      await writer?.flush();
    },
    dump: () => store.dump(),
    reset(seed?: SimSeed) {
      store.load(seed === undefined ? baseSeed : parseSeed(seed));
      changed();
    },
    loadSeed(seed: SimSeed) {
      baseSeed = parseSeed(seed);
      store.load(baseSeed);
      changed();
    },
    setFaults: (f) => faults.set(f),
    faults: () => faults.get(),
    setRateLimit(r) {
      try {
        limiter.set(r);
      } catch (e) {
        throw badRequest('ERROR_VALIDATION', (e as Error).message);
      }
    },
    rateLimit: () => limiter.get(),
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    injectedFaults: () => ({ ...faults.injected }),
    changeUserEmail(userId: string, email: string) {
      const change = changeEmail(store, userId, email);
      changed();
      log('sim user email changed', { userId });
      notifyUserModified(store, webhooks, change);
    },
    changeUserName(userId, names) {
      const change = changeName(store, userId, names);
      changed();
      log('sim user name changed', { userId });
      notifyUserModified(store, webhooks, change);
    },
    addSubscription(input) {
      const sub: SubscriptionRec = { id: randomUUID(), ...input };
      store.subscriptions.set(sub.id, sub);
      changed();
      return sub;
    },
    subscriptions: () => [...store.subscriptions.values()],
    contractViolations: () => recorder.violations(),
    clearContractViolations: () => recorder.clear(),
    setOldShape(on: boolean) {
      oldShape = on;
    },
    deliveries: () => webhooks.deliveries(),
    webhookBehaviour: () => webhooks.behaviour(),
    setWebhookBehaviour(b) {
      try {
        return webhooks.setBehaviour(b);
      } catch (e) {
        throw badRequest('ERROR_VALIDATION', (e as Error).message);
      }
    },
    releaseWebhooks: (order) => webhooks.release(order),
    redeliverWebhook(notificationId) {
      if (!webhooks.redeliver(notificationId)) throw notFound('ERROR_NOT_FOUND', `notification_id: no delivery ${notificationId}`);
    },
  };
  registerAdminRoutes(app, handle);

  await app.listen({ host, port: options.port ?? 4010 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 4010);
  issuerUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log('sim listening', { url: issuerUrl, persisted: persisted !== undefined });
  return handle;
}

export { parseFaults };
