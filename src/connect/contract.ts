/**
 * The Connect contract at run time: src/connect/contract/connect-openapi.yaml, loaded once, with
 * ajv validators for every operation's parameters, body and answers. The client builds its
 * requests from it and checks the answers; the simulator builds its routes from it and checks what
 * it sends; `doctor --contract` compares a live Connect with it. There is no other copy of the
 * paths, methods, scopes, status codes or error codes.
 *
 * The wire types (src/connect/contract/wire.ts) are generated from the same file with
 * `npm run contract:types`; a test fails when they are stale.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import type { operations } from './contract/wire.js';

export type OperationId = keyof operations;
export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How a list operation pages (x-udb-paging): `pages` = per_page/page, `limit` = one answer of at most `limit`. */
export type Paging = 'pages' | 'limit' | null;

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query';
  readonly required: boolean;
  readonly schema: Record<string, unknown>;
}

export interface ContractOperation {
  readonly id: OperationId;
  readonly method: HttpVerb;
  /** The path template, e.g. /v1.0/tenants/{tenant_id}. */
  readonly path: string;
  readonly scopes: readonly string[];
  readonly paging: Paging;
  readonly parameters: readonly Parameter[];
  /** The request body's content type, when the operation takes one. */
  readonly bodyType: string | null;
  /** Every status the operation documents, as numbers. */
  readonly statuses: readonly number[];
  /** Documented error codes by status (x-udb-error-codes), plus the ones any operation may give. */
  readonly errorCodes: Readonly<Record<number, readonly string[]>>;
  /** The error codes that mean "it is already so" (x-udb-already-so): success, outcome unchanged. */
  readonly alreadySo: readonly string[];
  /** Only `doctor` calls it (x-udb-used-by): a sync's token does not ask for its scope. */
  readonly doctorOnly: boolean;
  /** Per-operation notes that no source confirms. */
  readonly unconfirmed: string | null;
  readonly sources: readonly string[];
}

/** One way a request or an answer differs from the document; `where` is a JSON-pointer-ish path. */
export interface Violation {
  readonly where: string;
  readonly problem: string;
}

export interface Contract {
  readonly document: Readonly<Record<string, unknown>>;
  readonly operations: readonly ContractOperation[];
  operation(id: OperationId): ContractOperation;
  /** The operation a method and a concrete path address, with its path parameters. */
  match(method: string, path: string): { op: ContractOperation; params: Record<string, string> } | null;
  /** Every scope any operation needs, sorted. */
  readonly scopes: readonly string[];
  /** The scopes a sync needs: those of every operation that is not doctor-only, sorted. */
  readonly runScopes: readonly string[];
  /** Checks path parameters, query (as strings, as they travel) and body. */
  checkRequest(id: OperationId, request: { path: Record<string, string>; query: Record<string, string | readonly string[] | undefined>; body: unknown; contentType?: string | null }): Violation[];
  /**
   * Checks an answer: the status is documented (or one any operation may give), the body fits the
   * status's schema, an error body's code is one the document lists. `strict` also refuses fields
   * the document does not name (the simulator must not invent any; a live Connect may add some).
   */
  checkResponse(id: OperationId, status: number, body: unknown, options?: { strict?: boolean }): Violation[];
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function contractPath(): string {
  // src/connect/contract.ts and dist/connect/contract.js both sit two levels below the package root.
  return fileURLToPath(new URL('../../src/connect/contract/connect-openapi.yaml', import.meta.url));
}

type Json = Record<string, unknown>;

function pointer(doc: Json, ref: string): Json {
  if (!ref.startsWith('#/')) throw new Error(`contract: only local $refs are supported, got ${ref}`);
  let at: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    at = (at as Json | undefined)?.[key];
  }
  if (typeof at !== 'object' || at === null) throw new Error(`contract: $ref ${ref} resolves to nothing`);
  return at as Json;
}

const deref = (doc: Json, o: Json): Json => (typeof o.$ref === 'string' ? pointer(doc, o.$ref) : o);

/** Every object schema that lists properties, with additionalProperties false where it says nothing. */
function strictCopy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCopy);
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = strictCopy(v);
  if (out.type === 'object' && typeof out.properties === 'object' && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  // ajv-formats is CommonJS; its default export is the plugin under either interop.
  const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;
  addFormats(ajv);
  return ajv;
}

function violations(errors: ErrorObject[] | null | undefined, prefix: string): Violation[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? `/${String((e.params as { additionalProperty?: string }).additionalProperty)}` : '';
    const missing = e.keyword === 'required' ? `/${String((e.params as { missingProperty?: string }).missingProperty)}` : '';
    const where = `${prefix}${e.instancePath}${extra}${missing}`;
    const problem = e.keyword === 'additionalProperties' ? 'not in the contract' : e.keyword === 'required' ? 'missing (required)' : (e.message ?? e.keyword);
    return { where, problem };
  });
}

/** Query values travel as strings; turn them into what the parameter's schema says before checking. */
function coerce(value: string, schema: Json): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (schema.type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

let shipped: Contract | undefined;

/**
 * The document shipped with the package, loaded once: it is read-only data, and compiling its
 * validators for every client and simulator would cost more than every call they make.
 */
export function defaultContract(): Contract {
  shipped ??= loadContract();
  return shipped;
}

export function loadContract(path: string = contractPath()): Contract {
  const document = parse(readFileSync(path, 'utf8')) as Json;
  const common = (document['x-udb-common-errors'] ?? {}) as Record<string, unknown>;
  const commonCodes: Record<number, string[]> = {};
  for (const [k, v] of Object.entries(common)) if (/^\d{3}$/.test(k) && Array.isArray(v)) commonCodes[Number(k)] = v as string[];

  // The validators are built on the first check, not here: every command loads the contract for
  // its scopes, and a run that sends nothing (a no-change delta run) need not pay a third of a
  // second for ajv to compile the document.
  let ajvs: { loose: Ajv2020; strict: Ajv2020 } | undefined;
  const validators = () => {
    if (!ajvs) {
      const loose = newAjv();
      const strict = newAjv();
      loose.addSchema(document, 'connect');
      strict.addSchema(strictCopy(document) as Json, 'connect');
      ajvs = { loose, strict };
    }
    return ajvs;
  };
  const compiled = new Map<string, ValidateFunction>();
  const validator = (ptr: string, isStrict: boolean): ValidateFunction => {
    const key = `${isStrict ? 's' : 'l'}${ptr}`;
    let v = compiled.get(key);
    if (!v) {
      const ajv = isStrict ? validators().strict : validators().loose;
      v = ajv.getSchema(`connect#${ptr}`);
      if (!v) throw new Error(`contract: no schema at ${ptr}`);
      compiled.set(key, v);
    }
    return v;
  };
  const paramValidators = new Map<string, ValidateFunction>();
  const esc = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

  const ops: ContractOperation[] = [];
  const pointers = new Map<OperationId, { op: string; responses: Map<number, string | null>; body: string | null }>();
  const paths = document.paths as Record<string, Json>;
  for (const [template, item] of Object.entries(paths)) {
    const shared = ((item.parameters ?? []) as Json[]).map((p) => deref(document, p));
    for (const m of METHODS) {
      const raw = item[m] as Json | undefined;
      if (!raw) continue;
      const id = raw.operationId as OperationId;
      const opPtr = `/paths/${esc(template)}/${m}`;
      const parameters = [...shared, ...((raw.parameters ?? []) as Json[]).map((p) => deref(document, p))].map((p) => ({
        name: p.name as string,
        in: p.in as 'path' | 'query',
        required: p.required === true,
        schema: (p.schema ?? {}) as Json,
      }));
      const responses = new Map<number, string | null>();
      for (const [status, r] of Object.entries((raw.responses ?? {}) as Record<string, Json>)) {
        const resolved = deref(document, r);
        const content = resolved.content as Record<string, Json> | undefined;
        const base = typeof r.$ref === 'string' ? (r.$ref as string).slice(1) : `${opPtr}/responses/${status}`;
        responses.set(Number(status), content?.['application/json'] ? `${base}/content/application~1json/schema` : null);
      }
      const body = raw.requestBody as Json | undefined;
      const bodyType = body ? Object.keys((body.content ?? {}) as Json)[0] ?? null : null;
      const security = (raw.security ?? document.security ?? []) as Array<Record<string, string[]>>;
      const codes = (raw['x-udb-error-codes'] ?? {}) as Record<string, string[]>;
      const errorCodes: Record<number, string[]> = {};
      for (const [s, list] of Object.entries(commonCodes)) errorCodes[Number(s)] = [...list];
      for (const [s, list] of Object.entries(codes)) errorCodes[Number(s)] = [...(errorCodes[Number(s)] ?? []), ...list];
      const op: ContractOperation = {
        id,
        method: m.toUpperCase() as HttpVerb,
        path: template,
        scopes: [...new Set(security.flatMap((s) => Object.values(s).flat()))].sort(),
        paging: (raw['x-udb-paging'] as Paging | undefined) ?? null,
        parameters,
        bodyType,
        statuses: [...responses.keys()].sort((a, b) => a - b),
        errorCodes,
        alreadySo: (raw['x-udb-already-so'] ?? []) as string[],
        doctorOnly: typeof raw['x-udb-used-by'] === 'string' && (raw['x-udb-used-by'] as string).startsWith('doctor'),
        unconfirmed: typeof raw['x-udb-unconfirmed'] === 'string' ? (raw['x-udb-unconfirmed'] as string).trim() : null,
        sources: (raw['x-udb-source'] ?? []) as string[],
      };
      ops.push(op);
      pointers.set(id, { op: opPtr, responses, body: bodyType ? `${opPtr}/requestBody/content/${esc(bodyType)}/schema` : null });
    }
  }
  const byId = new Map(ops.map((o) => [o.id, o]));
  const matchers = ops.map((op) => {
    const names: string[] = [];
    const source = op.path.replace(/[.]/g, '\\.').replace(/\{([^}]+)\}/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    });
    return { op, names, re: new RegExp(`^${source}$`) };
  });
  const operation = (id: OperationId): ContractOperation => {
    const op = byId.get(id);
    if (!op) throw new Error(`contract: no operation ${id}`);
    return op;
  };

  return {
    document,
    operations: ops,
    operation,
    scopes: [...new Set(ops.flatMap((o) => o.scopes))].sort(),
    runScopes: [...new Set(ops.filter((o) => !o.doctorOnly).flatMap((o) => o.scopes))].sort(),
    match(method, path) {
      // Literal segments win over parameters (…/applications/users/… before …/{application_id}/…).
      let best: { op: ContractOperation; params: Record<string, string>; literal: number } | null = null;
      for (const { op, names, re } of matchers) {
        if (op.method !== method.toUpperCase()) continue;
        const m = re.exec(path);
        if (!m) continue;
        const literal = op.path.split('/').filter((s) => !s.startsWith('{')).length;
        if (best && best.literal >= literal) continue;
        const params: Record<string, string> = {};
        names.forEach((n, i) => {
          try {
            params[n] = decodeURIComponent(m[i + 1]!);
          } catch {
            params[n] = m[i + 1]!;
          }
        });
        best = { op, params, literal };
      }
      return best && { op: best.op, params: best.params };
    },
    checkRequest(id, request) {
      const op = operation(id);
      const out: Violation[] = [];
      const known = new Set(op.parameters.filter((p) => p.in === 'query').map((p) => p.name));
      for (const name of Object.keys(request.query)) {
        if (request.query[name] !== undefined && !known.has(name)) out.push({ where: `query.${name}`, problem: 'not in the contract' });
      }
      for (const p of op.parameters) {
        const raw = p.in === 'path' ? request.path[p.name] : request.query[p.name];
        if (raw === undefined) {
          if (p.required) out.push({ where: `${p.in}.${p.name}`, problem: 'missing (required)' });
          continue;
        }
        if (Array.isArray(raw)) {
          out.push({ where: `${p.in}.${p.name}`, problem: 'given more than once' });
          continue;
        }
        const key = `${id}:${p.in}:${p.name}`;
        let v = paramValidators.get(key);
        if (!v) paramValidators.set(key, (v = validators().loose.compile(p.schema)));
        if (!v(coerce(raw as string, p.schema))) out.push(...violations(v.errors, `${p.in}.${p.name}`).map((x) => ({ ...x, problem: `${x.problem} (got ${JSON.stringify(raw)})` })));
      }
      const ptrs = pointers.get(id)!;
      if (ptrs.body === null) {
        if (request.body !== undefined && request.body !== null) out.push({ where: 'body', problem: 'the operation takes no body' });
      } else if (request.body === undefined || request.body === null) {
        out.push({ where: 'body', problem: 'missing (required)' });
      } else {
        if (request.contentType !== undefined && request.contentType !== null && !request.contentType.startsWith(op.bodyType!)) {
          out.push({ where: 'content-type', problem: `must be ${op.bodyType}, got ${request.contentType}` });
        }
        const v = validator(ptrs.body, true);
        if (!v(request.body)) out.push(...violations(v.errors, 'body'));
      }
      return out;
    },
    checkResponse(id, status, body, options = {}) {
      const op = operation(id);
      const ptrs = pointers.get(id)!;
      const known = ptrs.responses.has(status) || op.errorCodes[status] !== undefined;
      if (!known) return [{ where: 'status', problem: `${status} is not an answer ${id} documents (${op.statuses.join(', ')})` }];
      const schemaPtr = ptrs.responses.has(status) ? ptrs.responses.get(status)! : status >= 400 ? '/components/schemas/Error' : null;
      if (schemaPtr === null) {
        return body === undefined || body === null || body === '' ? [] : [{ where: 'body', problem: `${status} carries no body in the contract` }];
      }
      if (status >= 400 && (body === null || body === undefined || body === '') && op.unconfirmed?.includes('without a body')) return [];
      const v = validator(schemaPtr, options.strict === true);
      if (!v(body)) return violations(v.errors, 'body');
      if (status >= 400) {
        const code = (body as { error_code: string }).error_code;
        const allowed = op.errorCodes[status] ?? [];
        if (!allowed.includes(code)) return [{ where: 'body/error_code', problem: `${code} is not an error code ${id} documents for ${status} (${allowed.join(', ') || 'none'})` }];
      }
      return [];
    },
  };
}
