/**
 * Fastify wiring: the token endpoint, the /v1.0 routes and the pipeline every API request goes
 * through (count → token → rate limit → faults before → scope → operation → faults after).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimApiError } from './api-error.js';
import { hasScope, issueToken, OAuthError, readClientCredentials, type TokenIssuer } from './auth.js';
import { countryList } from './countries.js';
import type { RequestCounters } from './counters.js';
import type { FaultInjector } from './faults.js';
import type { OpContext, OpResult } from './op-context.js';
import type { RateLimiter } from './rate-limit.js';
import { getUserRoles, getUserTenantRoles, setUserTenantRoles } from './roles.js';
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
  readonly changed: () => void;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

type Handler = (ctx: OpContext) => OpResult;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const TA = '/tenants/:tenant_id/applications/:application_id';
const ROUTES: ReadonlyArray<readonly [Method, string, Operation, string | null, Handler]> = [
  ['GET', '/search/tenants', 'searchTenants', 'tenant:read', tenants.searchTenants],
  ['GET', '/tenants/:tenant_id', 'getTenant', 'tenant:read', tenants.getTenant],
  ['POST', '/tenants', 'addTenant', 'tenant:create', tenants.addTenant],
  ['PATCH', '/tenants/:tenant_id', 'updateTenant', 'tenant:update', tenants.updateTenant],
  ['POST', TA, 'addTenantApplication', 'tenant:application:create', tenants.addTenantApplication],
  ['DELETE', TA, 'deleteTenantApplication', 'tenant:application:delete', tenants.deleteTenantApplication],
  ['POST', `${TA}/suspend`, 'suspendTenantApplication', 'tenant:application:update', tenants.suspendTenantApplication],
  ['POST', `${TA}/resume`, 'resumeTenantApplication', 'tenant:application:update', tenants.resumeTenantApplication],
  ['GET', '/tenants/:tenant_id/applications', 'listTenantApplications', 'tenant:application:read', tenants.listTenantApplications],
  ['GET', '/tenants/:tenant_id/hierarchy/applications', 'listHierarchyApplications', 'tenant:application:read', tenants.listHierarchyApplications],
  ['POST', '/users', 'addUser', 'user:create', users.addUser],
  ['GET', '/users/:user_id', 'getUser', 'user:read', users.getUser],
  ['GET', '/users', 'searchUsers', 'user:read', users.searchUsers],
  ['GET', '/users/:user_id/applications', 'listUserApplications', 'user:read', users.listUserApplications],
  ['DELETE', '/users/:user_id/applications/:application_id', 'unlinkUserApplication', 'user:update', users.unlinkUserApplication],
  ['PUT', '/users/:user_id/applications/:application_id/external_id', 'setUserExternalId', 'user:update', users.setUserExternalId],
  ['GET', '/applications/:application_id/users/:user_id/roles', 'getUserRoles', 'tenant:userapplicationroles:read', getUserRoles],
  ['GET', `${TA}/users/:user_id/roles`, 'getUserTenantRoles', 'tenant:userapplicationroles:read', getUserTenantRoles],
  ['PUT', `${TA}/users/:user_id/roles`, 'setUserTenantRoles', 'tenant:userapplicationroles:update', setUserTenantRoles],
  ['PUT', '/users/:user_id/email_change_allowed', 'setEmailChangeAllowed', 'user:allowemailchange', users.setEmailChangeAllowed],
  ['PUT', '/users/:user_id/2step_enforced', 'setTwoStepEnforced', 'user:update', users.setTwoStepEnforced],
  ['GET', '/countries', 'listCountries', null, () => ({ status: 200, body: { countries: countryList() } })],
];

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
  void reply.code(500).send({ error_code: 'ERROR_INTERNAL', error_message: 'internal error' });
}

function drop(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  request.raw.socket.destroy();
}

export function buildServer(core: SimCore): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  app.addHook('onRequest', async (request) => {
    const op = request.routeOptions.config.op;
    if (op !== undefined) core.counters.count(op, request.method);
  });

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const code = status === 500 ? 'ERROR_INTERNAL' : 'ERROR_VALIDATION';
    if (status === 500) core.log('sim internal error', { error: error.message });
    void reply.code(status).send({ error_code: code, error_message: `body: ${error.message}` });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error_code: 'ERROR_NOT_FOUND', error_message: `no route ${request.method} ${request.url.split('?')[0]}` });
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

  for (const [method, path, op, scope, handler] of ROUTES) {
    const fullScope = scope === null ? null : `publicapi:${scope}`;
    app.route({
      method,
      url: `/v1.0${path}`,
      config: { op },
      handler: async (request, reply) => {
        try {
          const claims = core.issuer.verify(request.headers.authorization);
          const client = core.store.clients.get(claims.client_id);
          if (!client) throw new SimApiError(401, 'ERROR_INVALID_TOKEN', `Authorization: client ${claims.client_id} no longer exists`);
          const limit = core.limiter.take(`client:${client.clientId}`);
          if (limit) void reply.headers(limit.headers);
          if (limit && !limit.allowed) throw new SimApiError(429, 'ERROR_RATE_LIMITED', `client ${client.clientId}: rate limit exceeded`);
          const plan = core.faults.plan();
          if (plan.delayMs > 0) await sleep(plan.delayMs);
          if (plan.rateLimited) {
            void reply.header('retry-after', '1');
            throw new SimApiError(429, 'ERROR_RATE_LIMITED', `client ${client.clientId}: rate limit exceeded (injected burst)`);
          }
          if (plan.drop === 'before') return drop(request, reply);
          if (plan.error === 'before') throw new SimApiError(503, 'ERROR_SERVICE_UNAVAILABLE', 'service unavailable (injected)');
          if (!hasScope(claims, fullScope)) {
            throw new SimApiError(403, 'ERROR_INSUFFICIENT_SCOPE', `token: scope ${fullScope} is required for ${op}`);
          }
          const ctx: OpContext = {
            store: core.store,
            client,
            params: request.params as Record<string, string>,
            query: request.query as Query,
            body: request.body,
            changed: core.changed,
          };
          let result: OpResult | undefined;
          let failure: unknown;
          try {
            result = handler(ctx);
          } catch (e) {
            failure = e;
          }
          if (plan.drop === 'after') return drop(request, reply);
          if (plan.error === 'after') throw new SimApiError(500, 'ERROR_INTERNAL', 'internal error (injected after the change)');
          if (result === undefined) throw failure;
          return await (result.body === undefined ? reply.code(result.status).send() : reply.code(result.status).send(result.body));
        } catch (e) {
          if (e instanceof SimApiError && e.status === 401) void reply.header('www-authenticate', 'Bearer error="invalid_token"');
          sendError(reply, e, core.log);
          return reply;
        }
      },
    });
  }
  return app;
}
