import { describe, expect, it } from 'vitest';
import { applicationShape, leastFullRead, pagesFor, roleReadCost, type ConnectShape } from './full-read-cost.js';

describe('the least number of calls of a full read', () => {
  it('a list costs one call per 50 items, and one to learn it is empty', () => {
    expect([0, 1, 49, 50, 51, 100, 101].map((n) => pagesFor(n))).toEqual([1, 1, 1, 1, 2, 2, 3]);
  });

  it('roles by account: one paged read per linked account', () => {
    expect(roleReadCost({ applicationId: 'a', catalogSize: 6, holders: [], tenantsPerAccount: [0, 1, 3, 50, 51] }).byAccount).toBe(1 + 1 + 1 + 1 + 2);
  });

  it('roles by tenant: the catalog, then one paged holder list per role of the catalog on each tenant with the application', () => {
    // Two tenants; on the first 120 accounts hold role 1 and 3 hold role 2; nobody holds anything on the second.
    const cost = roleReadCost({ applicationId: 'a', catalogSize: 4, holders: [[120, 3], []], tenantsPerAccount: [] });
    expect(cost.byTenant).toBe(1 + (3 + 1 + 2) + 4);
    // With the catalog known from the config, its own read is not needed.
    expect(roleReadCost({ applicationId: 'a', catalogSize: 4, catalogKnown: true, holders: [[120, 3], []], tenantsPerAccount: [] }).byTenant).toBe(10);
    expect(() => roleReadCost({ applicationId: 'a', catalogSize: 1, holders: [[1, 1]], tenantsPerAccount: [] })).toThrow(RangeError);
  });

  it("the directory's shape decides: many users per company read by tenant, few users across many companies by account", () => {
    // 100k users, 2,000 companies with the application, each user on 2 of them, 6 roles.
    const many = roleReadCost({ applicationId: 'a', catalogSize: 6, holders: Array.from({ length: 2000 }, () => [40, 30, 20, 10, 0, 0].filter(Boolean)), tenantsPerAccount: Array.from({ length: 100_000 }, () => 2) });
    expect(many).toMatchObject({ byAccount: 100_000, byTenant: 1 + 2000 * 6, cheaper: 'byTenant' });
    // 30 consultants on 2,000 tenants each.
    const few = roleReadCost({ applicationId: 'a', catalogSize: 6, holders: Array.from({ length: 2000 }, () => [30]), tenantsPerAccount: Array.from({ length: 30 }, () => 2000) });
    expect(few).toMatchObject({ byAccount: 30 * 40, cheaper: 'byAccount' });
  });

  it('sums every part, taking the cheaper role read per application', () => {
    const shape: ConnectShape = {
      ownTenants: 102,
      linkedTenants: 100,
      linkedAccounts: 5000,
      anchorLookups: 5000,
      flagReads: 0,
      applications: [
        { applicationId: 'a', catalogSize: 2, holders: Array.from({ length: 100 }, () => [30, 20]), tenantsPerAccount: Array.from({ length: 5000 }, () => 1) },
        { applicationId: 'b', catalogSize: 3, holders: [[1]], tenantsPerAccount: [1] },
      ],
    };
    const least = leastFullRead(shape);
    expect(least).toMatchObject({ tenants: 3, applications: 100, accounts: 100, anchors: 5000, flags: 0 });
    expect(least.roles.map((r) => [r.cheaper, Math.min(r.byAccount, r.byTenant)])).toEqual([['byTenant', 201], ['byAccount', 1]]);
    expect(least.total).toBe(3 + 100 + 100 + 5000 + 201 + 1);
  });

  it('the shape of an application comes from grants: holders per role on each tenant with it, tenants per linked account', () => {
    const shape = applicationShape('a', 3, ['C1', 'C2'], [
      { userKey: 'U1', companyKey: 'C1', roles: ['r1', 'r2'] },
      { userKey: 'U2', companyKey: 'C1', roles: ['r1'] },
      { userKey: 'U2', companyKey: 'C2', roles: ['r3'] },
      { userKey: 'U3', companyKey: 'C2', roles: [] },
    ], ['U1', 'U2', 'U3']);
    expect(shape).toEqual({ applicationId: 'a', catalogSize: 3, holders: [[2, 1], [1]], tenantsPerAccount: [1, 2, 0] });
  });
});
