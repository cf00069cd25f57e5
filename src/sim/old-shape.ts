/**
 * The shapes the first ud-bridge simulator invented (owner_client_id, parent_tenant_id, status on
 * applications, wrapped lists, 200 with an empty list instead of 204). A simulator switched to
 * them (`oldShape` option, PUT /_sim/old-shape) answers like a Connect that is not the one the
 * contract describes, which is what `doctor --contract` must find and name field by field.
 */
import type { OperationId } from '../connect/contract.js';

function oldTenant(t: unknown): unknown {
  if (typeof t !== 'object' || t === null) return t;
  const { application_id, parent_id, ...rest } = t as Record<string, unknown>;
  return { ...rest, owner_client_id: application_id, parent_tenant_id: parent_id ?? null };
}

export function oldShape(id: OperationId, status: number, body: unknown): unknown {
  if (status >= 400) return body;
  switch (id) {
    case 'getTenantById':
    case 'addTenant':
    case 'modifyPartsOfTenant':
      return oldTenant(body);
    case 'getAllTenantsManagedByApplication': {
      const tenants = Array.isArray(body) ? body : [];
      return { tenants: tenants.map(oldTenant), total_tenants: tenants.length, total_pages: 1 };
    }
    case 'getAllApplicationsAddedToTenant': {
      const apps = Array.isArray(body) ? (body as Array<Record<string, unknown>>) : [];
      return { applications: apps.map((a) => ({ application_id: a.application_id, status: a.suspended_date ? 'suspended' : 'active', is_inherited: a.is_inherited })) };
    }
    case 'getUsers': {
      const users = Array.isArray(body) ? body : [];
      return { users, total_users: users.length, total_pages: 1 };
    }
    case 'getCountries':
      return { countries: (Array.isArray(body) ? (body as Array<{ iso2Code: string; name: string }>) : []).map((c) => ({ code: c.iso2Code, name: c.name })) };
    default:
      return body;
  }
}
