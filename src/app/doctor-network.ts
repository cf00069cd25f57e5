/**
 * `doctor`'s report of the route to Connect: for the token endpoint and the API, direct or via
 * which proxy (and where that setting came from), and the extra CA bundle, read and checked as a
 * run reads it. Decided by the same routeFor() the transport uses, so it says what a run does;
 * whether the route works shows in the `connect token` check that follows, made over it.
 */
import type { ResolvedConfig } from '../config/load.js';
import { describeRoute, readCaBundle, routeFor } from '../connect/network.js';
import { describeError } from '../errors.js';
import type { DoctorCheck } from './doctor.js';

export function networkChecks(config: ResolvedConfig, now: () => Date = () => new Date()): DoctorCheck[] {
  const c = config.connect;
  if (c.mode === 'embedded') return [{ name: 'connect route', ok: true, detail: 'direct: the embedded simulator runs in this process' }];
  const checks: DoctorCheck[] = [];
  try {
    const token = describeRoute(routeFor(c.network, new URL(c.tokenUrl)));
    const api = describeRoute(routeFor(c.network, new URL(c.apiBaseUrl)));
    checks.push({
      name: 'connect route',
      ok: true,
      detail: token === api ? `token endpoint and API ${token}` : `token endpoint ${token}; API ${api}`,
    });
  } catch (e) {
    checks.push({ name: 'connect route', ok: false, detail: describeError(e).message });
  }
  if (c.network.caFile !== null) checks.push(caCheck(c.network.caFile, now()));
  return checks;
}

function caCheck(file: string, now: Date): DoctorCheck {
  try {
    const bundle = readCaBundle(file);
    const expired = bundle.certificates.filter((x) => new Date(x.validTo).getTime() < now.getTime());
    const list = bundle.certificates.map((x) => `${x.subject} (valid to ${x.validTo})`).join('; ');
    return expired.length === 0
      ? { name: 'connect CA bundle', ok: true, detail: `${file}: ${bundle.certificates.length} certificate(s) trusted beside Node's roots: ${list}` }
      : { name: 'connect CA bundle', ok: false, detail: `${file}: expired: ${expired.map((x) => `${x.subject} (valid to ${x.validTo})`).join('; ')}` };
  } catch (e) {
    return { name: 'connect CA bundle', ok: false, detail: describeError(e).message };
  }
}
