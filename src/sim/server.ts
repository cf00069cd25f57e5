/**
 * Fastify wiring: the token endpoint, the /v1.0 routes and the pipeline every API request goes
 * through (count → token → rate limit → faults before → scope → operation → faults after).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Contract, ContractOperation, OperationId } from '../connect/contract.js';
import { SimApiError } from './api-error.js';
import { hasScope, issueToken, OAuthError, readClientCredentials, type TokenIssuer } from './auth.js';
import * as catalog from './catalog.js';
import { requestErrorCode, type ContractRecorder } from './contract-check.js';
import type { RequestCounters } from './counters.js';
import type { FaultInjector } from './faults.js';
import type { OpContext, SimReply } from './op-context.js';
import { oldShape } from './old-shape.js';
import type { RateLimiter } from './rate-limit.js';
import * as roles from './roles.js';
import type { Query } from './search.js';
import type { SimStore } from './store.js';
import * as tenants from './tenants.js';
import type { Operation } from './types.js';
import * as users from './users.js';

export interface SimCore {
  readonly store: SimStore;
  readonly issuer: TokenIssuer;
  readonly limiter: RateLimiter;
  readonly faults: FaultInjector;
  readonly counters: RequestCounters;
  readonly contract: Contract;
  readonly recorder: ContractRecorder;
  /** Answer some operations in the shape the first version invented (for `doctor --contract` tests). */
  readonly oldShape: () => boolean;
  readonly changed: () => void;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

type Handler = (ctx: OpContext) => SimReply;

/** One handler per contract operation: a missing one is a compile error. */
const HANDLERS: { readonly [K in OperationId]: Handler } = {
  getAllTenantsManagedByApplication: tenants.getAllTenantsManagedByApplication,
  addTenant: tenants.addTenant,
  getTenantById: tenants.getTenantById,
  modifyPartsOfTenant: tenants.modifyPartsOfTenant,
  searchTenants: tenants.searchTenants,
  getAllApplicationsAddedToTenant: tenants.getAllApplicationsAddedToTenant,
  addApplicationToTenant: tenants.addApplicationToTenant,
  deleteApplicationFromTenant: tenants.deleteApplicationFromTenant,
  suspendApplication: tenants.suspendApplication,
  resumeApplication: tenants.resumeApplication,
  getUsers: users.getUsers,
  getUsersByApplicationIdAndExternalId: users.getUsersByApplicationIdAndExternalId,
  addUser: users.addUser,
  getUser: users.getUser,
  addRemoveExternalIdForApplication: users.addRemoveExternalIdForApplication,
  unlinkApplicationFromUser: users.unlinkApplicationFromUser,
  changeEmailChangeAllowedState: users.changeEmailChangeAllowedState,
  change2StepAuthenticationEnforcement: users.change2StepAuthenticationEnforcement,
  grantUserRolesAndRevokeAllOthers: roles.grantUserRolesAndRevokeAllOthers,
  getUserTenantsWithRolesForApplication: roles.getUserTenantsWithRolesForApplication,
  getUsersForTenantAndApplication: roles.getUsersForTenantAndApplication,
  getUsersForRoleOnTenant: roles.getUsersForRoleOnTenant,
  getApplication: catalog.getApplication,
  getAllRolesForApplication: catalog.getAllRolesForApplication,
  getCountries: catalog.getCountries,
  getLanguages: catalog.getLanguages,
  getVismaBusinessUnits: catalog.getVismaBusinessUnits,
};

/** Fastify's route syntax for a contract path template: {tenant_id} → :tenant_id. */
const fastifyPath = (template: string): string => template.replace(/\{([^}]+)\}/g, ':$1');

declare module 'fastify' {
  interface FastifyContextConfig {
    op?: Operation;
  }
}

function sendError(reply: FastifyReply, e: unknown, log: SimCore['log']): void {
  if (e instanceof SimApiError) {
    void reply.code(e.status).send(e.body());
    return;
  }
  log('sim internal error', { error: e instanceof Error ? e.message : String(e) });
  void reply.code(500).send({ error_code: 'ERROR_INTERNAL' });
}

function drop(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  request.raw.socket.destroy();
}

export function buildServer(core: SimCore): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  app.addContentTypeParser('application/json-patch+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      (e as { statusCode?: number }).statusCode = 400;
      done(e as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  app.addHook('onRequest', async (request) => {
    const op = request.routeOptions.config.op;
    if (op !== undefined) core.counters.count(op, request.method);
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const code = status === 500 ? 'ERROR_INTERNAL' : 'ERROR_INVALID_INPUT_DATA';
    if (status === 500) core.log('sim internal error', { error: error.message });
    void reply.code(status).send({ error_code: code });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (/^\/v\d+\.\d+\//.test(path)) {
      core.recorder.record({ kind: 'request', operation: '(none)', method: request.method, path, where: 'path', problem: `no operation ${request.method} ${path} in the contract` });
    }
    void reply.code(404).send({ error_code: 'ERROR_NOT_FOUND', error_message: `no route ${request.method} ${path}` });
  });

  app.post('/connect/token', { config: { op: 'token' } }, async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    const form = request.body instanceof URLSearchParams ? request.body : null;
    const credentials = readClientCredentials(request.headers.authorization, form ?? new URLSearchParams());
    const limit = core.limiter.take(`client:${credentials?.clientId ?? request.ip}`);
    if (limit) void reply.headers(limit.headers);
    try {
      if (limit && !limit.allowed) throw new SimApiError(429, 'ERROR_RATE_LIMITED', 'token endpoint: rate limit exceeded');
      if (!form) throw new OAuthError(400, 'invalid_request', 'body: must be application/x-www-form-urlencoded');
      return await reply.code(200).send(issueToken(core.store, core.issuer, credentials, form));
    } catch (e) {
      if (e instanceof OAuthError && e.status === 401) void reply.header('www-authenticate', 'Basic realm="connect"');
      sendError(reply, e, core.log);
      return reply;
    }
  });

  for (const op of core.contract.operations) registerOperation(app, core, op);
  return app;
}

/**
 * One contract operation as a route: token → rate limit → faults before → scope (from the
 * operation's `security`) → the request checked against the contract → handler → faults after →
 * the answer checked against the contract for its status.
 */
function registerOperation(app: FastifyInstance, core: SimCore, op: ContractOperation): void {
  const handler = HANDLERS[op.id];
  const scopes = op.scopes;
  app.route({
    method: op.method,
    url: fastifyPath(op.path),
    config: { op: op.id },
    handler: async (request, reply) => {
      const path = request.url.split('?')[0]!;
      const answer = (status: number, body: unknown): FastifyReply => {
        const shaped = core.oldShape() ? oldShape(op.id, status, body) : body;
        if (!core.oldShape()) {
          for (const v of core.contract.checkResponse(op.id, status, shaped ?? null, { strict: true })) {
            core.recorder.record({ kind: 'response', operation: op.id, method: op.method, path, status, ...v });
          }
        }
        return shaped === undefined ? reply.code(status).send() : reply.code(status).send(shaped);
      };
      try {
        const claims = core.issuer.verify(request.headers.authorization);
        const client = core.store.clients.get(claims.client_id);
        if (!client) throw new SimApiError(401, 'ERROR_INVALID_TOKEN', `Authorization: client ${claims.client_id} no longer exists`);
        const limit = core.limiter.take(`client:${client.clientId}`);
        if (limit) void reply.headers(limit.headers);
        if (limit && !limit.allowed) throw new SimApiError(429, 'ERROR_RATE_LIMITED', `client ${client.clientId}: rate limit exceeded`);
        const faultPlan = core.faults.plan(op.id);
        if (faultPlan.delayMs > 0) await sleep(faultPlan.delayMs);
        if (faultPlan.rateLimited) {
          void reply.header('retry-after', '1');
          throw new SimApiError(429, 'ERROR_RATE_LIMITED', `client ${client.clientId}: rate limit exceeded (injected burst)`);
        }
        if (faultPlan.drop === 'before') return drop(request, reply);
        if (faultPlan.error === 'before') throw new SimApiError(503, 'ERROR_SERVICE_UNAVAILABLE', 'service unavailable (injected)');
        const missing = scopes.filter((s) => !hasScope(claims, s));
        if (missing.length > 0) throw new SimApiError(403, 'ERROR_INSUFFICIENT_SCOPE', `token: scope ${missing.join(' ')} is required for ${op.id}`);
        const params = request.params as Record<string, string>;
        const query = request.query as Query;
        const problems = core.contract.checkRequest(op.id, { path: params, query, body: request.body ?? null, contentType: request.headers['content-type'] ?? null });
        if (problems.length > 0) {
          for (const v of problems) core.recorder.record({ kind: 'request', operation: op.id, method: op.method, path, ...v });
          throw new SimApiError(400, requestErrorCode(op, problems[0]!.where), `${problems[0]!.where}: ${problems[0]!.problem}`);
        }
        const ctx: OpContext = { store: core.store, client, params, query, body: request.body, changed: core.changed };
        let result: SimReply | undefined;
        let failure: unknown;
        try {
          result = handler(ctx);
        } catch (e) {
          failure = e;
        }
        if (faultPlan.drop === 'after') return drop(request, reply);
        if (faultPlan.error === 'after') throw new SimApiError(500, 'ERROR_INTERNAL', 'internal error (injected after the change)');
        if (result === undefined) throw failure;
        return await answer(result.status, result.body);
      } catch (e) {
        if (e instanceof SimApiError && !(e instanceof OAuthError)) {
          if (e.status === 401 && e.code === 'ERROR_INVALID_TOKEN') void reply.header('www-authenticate', 'Bearer error="invalid_token"');
          return answer(e.status, e.body());
        }
        sendError(reply, e, core.log);
        return reply;
      }
    },
  });
}
