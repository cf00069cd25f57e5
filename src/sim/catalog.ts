/** Applications and their role catalogs, countries, languages and business units. */
import type { OpContext, SimReply } from './op-context.js';
import { countryList } from './countries.js';
import { listReply, present } from './paging.js';
import { requireApplication } from './tenants.js';
import { LANGUAGES } from './validation.js';

export function getApplication(ctx: OpContext): SimReply {
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  const third = ctx.store.clients.get(app.applicationId)?.thirdParty === true;
  return { status: 200, body: present({ id: app.applicationId, name: app.name, is_first_party: !third, application_type: 'service' }) };
}

export function getAllRolesForApplication(ctx: OpContext): SimReply {
  const app = requireApplication(ctx.store, ctx.params.application_id!);
  return app.roles.length === 0 ? { status: 204 } : { status: 200, body: { roles: [...app.roles] } };
}

export const getCountries = (): SimReply => listReply(countryList().map((c) => ({ name: c.name, iso2Code: c.code })));

export function getLanguages(): SimReply {
  const names = new Intl.DisplayNames(['en'], { type: 'language' });
  return listReply([...LANGUAGES].map((code) => ({ code, name: names.of(code) ?? code })));
}

export const getVismaBusinessUnits = (ctx: OpContext): SimReply => listReply(ctx.store.businessUnits.map((name) => ({ name })));
