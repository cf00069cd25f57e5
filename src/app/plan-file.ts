/**
 * The saved plan (`sync --plan-out`, read by `apply`), signed: an HMAC-SHA256 over its content
 * with a key kept in the data folder, created on first use and readable by the service account
 * only. `apply` runs a plan exactly as saved or not at all, so a file edited after it was saved —
 * held ops moved into its ops, a target changed — is refused whole. The signature says "this
 * ud-bridge wrote it"; whether each op is still right is checked against a plan made now.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fchmodSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plan } from '../domain/plan.js';
import { StateError, UdBridgeError, UsageError } from '../errors.js';

export const PLAN_FORMAT = 'ud-bridge.plan/v1';
const KEY_FILE = 'plan.key';
const MAC_PREFIX = 'hmac-sha256:';

export interface PlanDocument {
  readonly runId: string;
  readonly createdAt: string;
  readonly plan: Plan;
}

/** A plan file whose content is not what ud-bridge saved. */
export class PlanTamperedError extends UdBridgeError {
  constructor(path: string, why: string) {
    super('PLAN_TAMPERED', `apply: ${path} ${why}; apply runs a plan exactly as \`sync --plan-out\` saved it — make a new one with \`ud-bridge sync --dry-run --plan-out\``);
  }
}

/** The data folder's plan key, created (private to this account) when there is none yet. */
export function planKey(dataDir: string): Buffer {
  const path = join(dataDir, KEY_FILE);
  try {
    return Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateError('PLAN_KEY_UNREADABLE', `the plan key ${path} could not be read: ${(e as Error).message}`, { cause: e });
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // 'wx': two processes creating it at once cannot both win; the loser reads the winner's key.
    const fd = openSync(path, 'wx', 0o600);
    try {
      fchmodSync(fd, 0o600); // whatever the umask
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new StateError('PLAN_KEY_UNWRITABLE', `the plan key ${path} could not be created: ${(e as Error).message}`, { cause: e });
  }
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
}

/** The signed bytes: the document's fields in a fixed order, as JSON. */
function signedText(doc: { format: unknown; runId: unknown; createdAt: unknown; plan: unknown }): string {
  return JSON.stringify({ format: doc.format, runId: doc.runId, createdAt: doc.createdAt, plan: doc.plan });
}

function mac(key: Buffer, text: string): string {
  return MAC_PREFIX + createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

export async function writePlanFile(path: string, doc: PlanDocument, dataDir: string): Promise<void> {
  const body = { format: PLAN_FORMAT, runId: doc.runId, createdAt: doc.createdAt, plan: doc.plan };
  await writeFile(path, `${JSON.stringify({ ...body, mac: mac(planKey(dataDir), signedText(body)) }, null, 2)}\n`, { mode: 0o600 });
  // The mode above applies only to a new file; a plan saved over an older one is made private too.
  await chmod(path, 0o600);
}

/** The file's document, once its signature checks out; throws PlanTamperedError or UsageError. */
export function readPlanFile(path: string, dataDir: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`apply: ${path} is not a readable plan file (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`apply: ${path} is not a plan saved by \`sync --plan-out\``);
  const doc = raw as Record<string, unknown>;
  if (typeof doc.mac !== 'string' || !doc.mac.startsWith(MAC_PREFIX)) throw new PlanTamperedError(path, 'carries no signature (saved by an older ud-bridge, or not by `sync --plan-out`)');
  const want = Buffer.from(mac(planKey(dataDir), signedText(doc as Parameters<typeof signedText>[0])));
  const got = Buffer.from(doc.mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new PlanTamperedError(path, 'was changed after `sync --plan-out` saved it (or was saved with another data folder\'s key): its signature does not match');
  }
  return doc;
}
