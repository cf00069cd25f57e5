import { describe, expect, it } from 'vitest';
import { UdBridgeError } from '../errors.js';
import {
  ConnectAuthError, ConnectConflictError, ConnectError, ConnectForbiddenError, ConnectNotFoundError, ConnectRateLimitedError,
  ConnectRefusedError, ConnectServerError, ConnectUnexpectedStatusError, ConnectValidationError, errorFromResponse,
  errorFromTokenResponse, isRefusalCode, objectOfPath,
} from './errors.js';

const body = (code: string, extra: Record<string, unknown> = {}) => ({ error_code: code, error_message: 'm', ...extra });

describe('errorFromResponse', () => {
  it.each([
    [400, 'ERROR_INVALID_EMAIL', ConnectValidationError, 'CONNECT_VALIDATION', false],
    [401, 'ERROR_INVALID_TOKEN', ConnectAuthError, 'CONNECT_AUTH', false],
    [403, 'ERROR_NOT_TENANT_OWNER', ConnectForbiddenError, 'CONNECT_FORBIDDEN', false],
    [404, 'ERROR_TENANT_NOT_FOUND', ConnectNotFoundError, 'CONNECT_NOT_FOUND', false],
    [409, 'ERROR_APPLICATION_ALREADY_ADDED', ConnectConflictError, 'CONNECT_CONFLICT', false],
    [429, 'ERROR_RATE_LIMITED', ConnectRateLimitedError, 'CONNECT_RATE_LIMITED', true],
    [500, 'ERROR_INTERNAL', ConnectServerError, 'CONNECT_SERVER', true],
    [503, 'ERROR_SERVICE_UNAVAILABLE', ConnectServerError, 'CONNECT_SERVER', true],
    [418, 'ERROR_TEAPOT', ConnectUnexpectedStatusError, 'CONNECT_UNEXPECTED_STATUS', false],
  ] as const)('maps %i %s to its class', (status, code, cls, stableCode, retryable) => {
    const e = errorFromResponse({ operation: 'getTenant', status, body: body(code) });
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(ConnectError);
    expect(e).toBeInstanceOf(UdBridgeError);
    expect(e.code).toBe(stableCode);
    expect(e.errorCode).toBe(code);
    expect(e.status).toBe(status);
    expect(e.operation).toBe('getTenant');
    expect(e.retryable).toBe(retryable);
    expect(e.message).toContain('getTenant');
  });

  it('keeps user_id of a 409 and the wait of a 429', () => {
    const c = errorFromResponse({ operation: 'addUser', status: 409, body: body('ERROR_USER_LINKED_TO_CLIENT', { user_id: 'u-1' }) });
    expect(c).toBeInstanceOf(ConnectConflictError);
    expect((c as ConnectConflictError).userId).toBe('u-1');
    const r = errorFromResponse({ operation: 'getUser', status: 429, body: body('ERROR_RATE_LIMITED'), retryAfterMs: 1500 });
    expect((r as ConnectRateLimitedError).retryAfterMs).toBe(1500);
  });

  it.each([
    ['ERROR_UNAUTHORIZED_CLIENT', '/v1.0/tenants/t-1/applications/app-9/suspend', 'tenant t-1, application app-9', /not the tenant's owner.*must link the tenant to this client/],
    ['ERROR_UNAUTHORIZED_APPLICATION', '/v1.0/tenants/t-1/applications/app-9', 'tenant t-1, application app-9', /no provisioning grant.*must grant this client the right to provision it/],
    ['ERROR_CLIENT_EMAILDOMAIN_UNAUTHORIZED', '/v1.0/users', 'the object of this call', /does not own the email domain/],
    ['ERROR_UNAUTHORIZED_USER', '/v1.0/users/u%2F1/emailChange', 'user u/1', /an administrator must grant this client the right/],
  ] as const)('a 401 %s is a refusal of the object, not a token problem', (code, path, object, advice) => {
    const e = errorFromResponse({ operation: 'op', status: 401, body: { error_code: code }, path });
    expect(e).toBeInstanceOf(ConnectRefusedError);
    expect(e).not.toBeInstanceOf(ConnectAuthError);
    expect(e).toMatchObject({ code: 'CONNECT_REFUSED', errorCode: code, status: 401, retryable: false, object, details: { object } });
    expect(e.message).toContain(`refuses ${object}`);
    expect(e.message).toMatch(/connect\.clientId/);
    expect(e.message).toMatch(advice);
  });

  it('a 401 without a refusal code stays a token problem (ConnectAuthError)', () => {
    for (const b of [null, { error_code: 'ERROR_INVALID_TOKEN' }, { error_code: 'ERROR_UNAUTHORIZED' }, '<html>401</html>']) {
      expect(errorFromResponse({ operation: 'getTenant', status: 401, body: b, path: '/v1.0/tenants/t' })).toBeInstanceOf(ConnectAuthError);
    }
    expect(isRefusalCode('ERROR_UNAUTHORIZED')).toBe(false);
    expect(isRefusalCode('ERROR_UNAUTHORIZED_DOMAIN')).toBe(true);
  });

  it('names the objects of a path, skipping versions, verbs and collection names', () => {
    expect(objectOfPath('/v2.0/tenants/applications/app-1/users/u-1')).toBe('application app-1, user u-1');
    expect(objectOfPath('/v1.0/tenants/t/applications/a/users/u/roles')).toBe('tenant t, application a, user u');
    expect(objectOfPath('/v1.0/users/u-1/emailChangeAllowed/true')).toBe('user u-1');
    expect(objectOfPath('/v1.0/tenants')).toBe('the object of this call');
    expect(objectOfPath(undefined)).toBe('the object of this call');
  });

  it('names the status when the body is not the API envelope (a proxy page)', () => {
    const e = errorFromResponse({ operation: 'getUser', status: 502, body: '<html>bad gateway</html>' });
    expect(e).toBeInstanceOf(ConnectServerError);
    expect(e.errorCode).toBe('HTTP_502');
  });
});

describe('errorFromTokenResponse', () => {
  it('makes every OAuth refusal an auth error with the OAuth error as errorCode', () => {
    for (const [status, error] of [[401, 'invalid_client'], [400, 'invalid_scope'], [400, 'unsupported_grant_type']] as const) {
      const e = errorFromTokenResponse({ operation: 'token', status, body: { error } });
      expect(e).toBeInstanceOf(ConnectAuthError);
      expect(e.errorCode).toBe(error);
      expect(e.status).toBe(status);
      expect(e.retryable).toBe(false);
    }
  });

  it('keeps 429 and 5xx of the token endpoint waitable and retryable', () => {
    expect(errorFromTokenResponse({ operation: 'token', status: 503, body: null })).toBeInstanceOf(ConnectServerError);
    expect(errorFromTokenResponse({ operation: 'token', status: 429, body: null, retryAfterMs: 10 })).toBeInstanceOf(ConnectRateLimitedError);
  });
});
