/**
 * `doctor`'s check of the webhook listener's settings, without binding its port (a running daemon
 * holds it; `ud-bridge webhook test` checks a live listener end to end): where it listens, how many
 * secrets verify (two while rotating), and with TLS on the listener that its certificate and key
 * load, belong together, and are not expired.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describeError } from '../errors.js';
import type { WebhooksConfig } from '../webhook/config.js';
import type { DoctorCheck } from './doctor-check.js';

const DAY_MS = 86_400_000;

export function webhookChecks(w: WebhooksConfig, now: Date): DoctorCheck[] {
  if (!w.enabled) return [{ name: 'webhook listener', ok: true, detail: 'off (webhooks.enabled is false)' }];
  const host = w.host.includes(':') ? `[${w.host}]` : w.host;
  const secrets = w.previousSecret === undefined ? 'one secret verifies' : 'two secrets verify (webhooks.secret and webhooks.previousSecret, while rotating)';
  const listener: DoctorCheck = {
    name: 'webhook listener',
    ok: true,
    detail: `${w.tls ? 'https' : 'http'}://${host}:${w.port}${w.path}, ${secrets}; \`ud-bridge webhook test\` sends it a signed sample event`,
  };
  return w.tls ? [listener, tlsCheck(w.tls, now)] : [listener];
}

function tlsCheck(tls: { readonly cert: string; readonly key: string }, now: Date): DoctorCheck {
  const name = 'webhook TLS';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(tls.cert));
  } catch (e) {
    return { name, ok: false, detail: `webhooks.tls.cert: ${tls.cert} is not a readable PEM certificate: ${describeError(e).message}` };
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(tls.key)))) {
      return { name, ok: false, detail: `webhooks.tls.key: ${tls.key} is not the key of the certificate in ${tls.cert} (${cert.subject.replaceAll('\n', ', ')})` };
    }
  } catch (e) {
    return { name, ok: false, detail: `webhooks.tls.key: ${tls.key} is not a readable PEM private key: ${describeError(e).message}` };
  }
  const subject = cert.subject.replaceAll('\n', ', ');
  const left = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / DAY_MS);
  if (left < 0) return { name, ok: false, detail: `${tls.cert} (${subject}) expired on ${cert.validTo}: Connect's deliveries will fail their TLS handshake` };
  if (new Date(cert.validFrom).getTime() > now.getTime()) return { name, ok: false, detail: `${tls.cert} (${subject}) is not valid before ${cert.validFrom}` };
  return { name, ok: true, detail: `${tls.cert} (${subject}) and its key match; valid to ${cert.validTo} (${left} days)${left < 30 ? ': renew it soon' : ''}` };
}
