/** The `/_sim/` admin routes: no auth, the simulator binds 127.0.0.1 by default. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { SimApiError } from './api-error.js';
import { parseBody } from './op-context.js';
import type { SimDump, SimSeed } from './seed.js';
import type { SubscriptionRec } from './store.js';
import type { FaultSettings, RateLimitSettings, SimCounters } from './types.js';
import type { NameChange } from './profile-changes.js';
import type { DeliveryBehaviour, DeliveryRecord } from './webhooks.js';
import type { ContractViolation } from './contract-check.js';

export interface AdminTarget {
  dump(): SimDump;
  reset(seed?: SimSeed): void;
  loadSeed(seed: SimSeed): void;
  changeUserEmail(userId: string, email: string): void;
  changeUserName(userId: string, names: NameChange): void;
  counters(): SimCounters;
  resetCounters(): void;
  faults(): FaultSettings;
  setFaults(f: Partial<FaultSettings>): void;
  rateLimit(): RateLimitSettings | null;
  setRateLimit(r: RateLimitSettings | null): void;
  addSubscription(input: Omit<SubscriptionRec, 'id'>): SubscriptionRec;
  subscriptions(): SubscriptionRec[];
  deliveries(): DeliveryRecord[];
  webhookBehaviour(): DeliveryBehaviour;
  setWebhookBehaviour(b: Partial<DeliveryBehaviour>): DeliveryBehaviour;
  releaseWebhooks(order?: 'newest-first' | 'oldest-first'): number;
  redeliverWebhook(notificationId: string): void;
  contractViolations(): ContractViolation[];
  setOldShape(on: boolean): void;
}

const subscriptionSchema = z.strictObject({
  url: z.url(),
  secret: z.string().min(1),
  application_id: z.string().min(1),
  events: z.array(z.string()).nullish(),
});
const rateLimitSchema = z.strictObject({ perSecond: z.number().positive(), burst: z.number().int().min(1).optional() }).nullable();
const emailSchema = z.strictObject({ email: z.string() });
const nameSchema = z.strictObject({ first_name: z.string().optional(), last_name: z.string().optional() });
const behaviourSchema = z.strictObject({ duplicates: z.number().int().min(0).max(10).optional(), hold: z.boolean().optional() });
const releaseSchema = z.strictObject({ order: z.enum(['newest-first', 'oldest-first']).optional() }).nullable();
const oldShapeSchema = z.strictObject({ enabled: z.boolean() });

async function run(reply: FastifyReply, action: () => { status: number; body?: unknown }): Promise<FastifyReply> {
  try {
    const r = action();
    return await (r.body === undefined ? reply.code(r.status).send() : reply.code(r.status).send(r.body));
  } catch (e) {
    if (e instanceof SimApiError) return reply.code(e.status).send(e.adminBody());
    if (e instanceof Error && 'code' in e && e.code === 'SIM_SEED_INVALID') {
      return reply.code(400).send({ error_code: 'ERROR_VALIDATION', error_message: e.message });
    }
    throw e;
  }
}

export function registerAdminRoutes(app: FastifyInstance, sim: AdminTarget): void {
  app.post('/_sim/reset', (req, reply) =>
    run(reply, () => {
      sim.reset(req.body == null ? undefined : (req.body as SimSeed));
      return { status: 204 };
    }),
  );
  app.post('/_sim/seed', (req, reply) =>
    run(reply, () => {
      sim.loadSeed((req.body ?? {}) as SimSeed);
      return { status: 204 };
    }),
  );
  app.get('/_sim/state', (_req, reply) => run(reply, () => ({ status: 200, body: sim.dump() })));
  app.post('/_sim/users/:id/email', (req, reply) =>
    run(reply, () => {
      const { email } = parseBody(emailSchema, req.body);
      sim.changeUserEmail((req.params as { id: string }).id, email);
      return { status: 204 };
    }),
  );
  app.post('/_sim/users/:id/name', (req, reply) =>
    run(reply, () => {
      sim.changeUserName((req.params as { id: string }).id, parseBody(nameSchema, req.body));
      return { status: 204 };
    }),
  );
  app.get('/_sim/counters', (_req, reply) => run(reply, () => ({ status: 200, body: sim.counters() })));
  app.delete('/_sim/counters', (_req, reply) =>
    run(reply, () => {
      sim.resetCounters();
      return { status: 204 };
    }),
  );
  app.get('/_sim/faults', (_req, reply) => run(reply, () => ({ status: 200, body: sim.faults() })));
  app.put('/_sim/faults', (req, reply) =>
    run(reply, () => {
      sim.setFaults((req.body ?? {}) as Partial<FaultSettings>);
      return { status: 200, body: sim.faults() };
    }),
  );
  app.get('/_sim/rate-limit', (_req, reply) => run(reply, () => ({ status: 200, body: sim.rateLimit() })));
  app.put('/_sim/rate-limit', (req, reply) =>
    run(reply, () => {
      const r = parseBody(rateLimitSchema, req.body ?? null);
      sim.setRateLimit(r);
      return { status: 200, body: sim.rateLimit() };
    }),
  );
  app.post('/_sim/subscriptions', (req, reply) =>
    run(reply, () => {
      const s = parseBody(subscriptionSchema, req.body);
      return { status: 201, body: sim.addSubscription({ ...s, events: s.events ?? null }) };
    }),
  );
  app.get('/_sim/subscriptions', (_req, reply) => run(reply, () => ({ status: 200, body: { subscriptions: sim.subscriptions() } })));
  app.get('/_sim/contract-violations', (_req, reply) => run(reply, () => ({ status: 200, body: { violations: sim.contractViolations() } })));
  app.put('/_sim/old-shape', (req, reply) =>
    run(reply, () => {
      sim.setOldShape(parseBody(oldShapeSchema, req.body).enabled);
      return { status: 204 };
    }),
  );
  app.get('/_sim/webhook-deliveries', (_req, reply) => run(reply, () => ({ status: 200, body: { deliveries: sim.deliveries() } })));
  app.get('/_sim/webhook-behaviour', (_req, reply) => run(reply, () => ({ status: 200, body: sim.webhookBehaviour() })));
  app.put('/_sim/webhook-behaviour', (req, reply) =>
    run(reply, () => {
      const b = parseBody(behaviourSchema, req.body ?? {});
      return { status: 200, body: sim.setWebhookBehaviour({ ...(b.duplicates === undefined ? {} : { duplicates: b.duplicates }), ...(b.hold === undefined ? {} : { hold: b.hold }) }) };
    }),
  );
  app.post('/_sim/webhook-deliveries/release', (req, reply) =>
    run(reply, () => {
      const order = parseBody(releaseSchema, req.body ?? null)?.order;
      return { status: 200, body: { released: sim.releaseWebhooks(order) } };
    }),
  );
  app.post('/_sim/webhook-deliveries/:notificationId/redeliver', (req, reply) =>
    run(reply, () => {
      sim.redeliverWebhook((req.params as { notificationId: string }).notificationId);
      return { status: 202 };
    }),
  );
}
