/**
 * A plan is data (Terraform's changes: before, after, reason). Every op names what it is about by
 * VUD key; the Connect ids it needs are looked up when it is applied, because an op may depend on
 * a tenant or an account that an earlier op of the same run creates.
 */
export const OP_KINDS = [
  'tenant.create',
  'tenant.link',
  'tenant.update',
  'tenant.app.add',
  'tenant.app.suspend',
  'tenant.app.resume',
  'tenant.app.delete',
  'user.create',
  'user.link',
  'user.externalId.set',
  'user.roles.set',
  'user.app.unlink',
  'user.2step.set',
  'user.emailChangeAllowed.set',
] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** The destructive classes the safety gate counts. */
export type DestructiveClass = 'revoke' | 'unlink' | 'suspend' | 'delete';

export type OpTarget =
  | { readonly type: 'company'; readonly companyKey: string; readonly tenantId?: string }
  | { readonly type: 'companyApp'; readonly companyKey: string; readonly applicationId: string; readonly tenantId?: string }
  | { readonly type: 'user'; readonly userKey: string; readonly userId?: string }
  | {
      readonly type: 'grant';
      readonly userKey: string;
      readonly companyKey: string;
      readonly applicationId: string;
      readonly userId?: string;
      readonly tenantId?: string;
    };

export interface Op {
  /** Stable across runs for the same change: `<kind>:<target key>`. */
  readonly id: string;
  readonly kind: OpKind;
  readonly target: OpTarget;
  readonly before: unknown;
  readonly after: unknown;
  /** Why this op exists, in words an admin understands. */
  readonly reason: string;
  readonly dependsOn: readonly string[];
  readonly destructive: DestructiveClass | null;
}

export interface HeldOp {
  readonly op: Op;
  /** Which gate held it and why. */
  readonly gate: string;
}

export interface Drift {
  readonly entity: { readonly type: 'user' | 'company'; readonly key: string; readonly connectId?: string };
  readonly field: string;
  readonly source: unknown;
  readonly connect: unknown;
  readonly message: string;
}

export interface Plan {
  readonly ops: readonly Op[];
  readonly held: readonly HeldOp[];
  readonly drift: readonly Drift[];
  /** Objects the planner could not plan for (ambiguous soft match, blocked link), journaled as errors. */
  readonly problems: readonly { readonly entity: { readonly type: string; readonly key: string }; readonly field: string; readonly message: string; readonly skipped?: 'link' | 'nothing' }[];
}

export type OpOutcome = 'created' | 'updated' | 'unchanged' | 'failed' | 'held' | 'skipped';

/** `%`, `@` and `/` are escaped inside a key, so `a@b` at `c` and `a` at `b@c` never share an id. */
const part = (key: string): string => key.replace(/[%@/]/g, (c) => encodeURIComponent(c));

export function targetKey(t: OpTarget): string {
  switch (t.type) {
    case 'company':
      return part(t.companyKey);
    case 'companyApp':
      return `${part(t.companyKey)}/${part(t.applicationId)}`;
    case 'user':
      return part(t.userKey);
    case 'grant':
      return `${part(t.userKey)}@${part(t.companyKey)}/${part(t.applicationId)}`;
  }
}

export function opId(kind: OpKind, target: OpTarget): string {
  return `${kind}:${targetKey(target)}`;
}
