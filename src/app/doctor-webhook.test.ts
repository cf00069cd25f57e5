import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createThrowawayCa } from '../../test/support/throwaway-ca.js';
import { webhooksSchema } from '../webhook/config.js';
import { webhookChecks } from './doctor-webhook.js';

const dir = mkdtempSync(join(tmpdir(), 'udb-doctor-webhook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ca = createThrowawayCa('Webhook test CA');
const other = createThrowawayCa('Another CA');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const cert = file('cert.pem', ca.serverCertPem);
const key = file('key.pem', ca.serverKeyPem);
const otherKey = file('other-key.pem', other.serverKeyPem);
const config = (extra: Record<string, unknown>) => webhooksSchema.parse({ enabled: true, secret: 's3cret-value', ...extra });
const NOW = new Date();

describe('doctor: the webhook listener', () => {
  it('off, on plain HTTP with one or two secrets', () => {
    expect(webhookChecks(webhooksSchema.parse({}), NOW)).toEqual([{ name: 'webhook listener', ok: true, detail: 'off (webhooks.enabled is false)' }]);
    expect(webhookChecks(config({ host: '0.0.0.0', port: 8788 }), NOW)).toEqual([
      { name: 'webhook listener', ok: true, detail: 'http://0.0.0.0:8788/webhooks/connect, one secret verifies; `ud-bridge webhook test` sends it a signed sample event' },
    ]);
    expect(webhookChecks(config({ previousSecret: 'old-secret' }), NOW)[0]!.detail).toMatch(/two secrets verify .*while rotating/);
  });

  it('with TLS: a certificate and its key pass with their expiry; a wrong key, a bad file or an expired certificate fail naming the key', () => {
    const good = webhookChecks(config({ tls: { cert, key } }), NOW);
    expect(good[0]!.detail).toMatch(/^https:\/\//);
    expect(good[1]).toMatchObject({ name: 'webhook TLS', ok: true, detail: expect.stringMatching(/cert\.pem \(CN=.*\) and its key match; valid to .* \(\d+ days\)/) });
    expect(webhookChecks(config({ tls: { cert, key: otherKey } }), NOW)[1]).toMatchObject({ ok: false, detail: expect.stringMatching(/^webhooks\.tls\.key: .*other-key\.pem is not the key of the certificate/) });
    expect(webhookChecks(config({ tls: { cert: file('junk.pem', 'not a certificate'), key } }), NOW)[1]).toMatchObject({ ok: false, detail: expect.stringMatching(/^webhooks\.tls\.cert: .*junk\.pem is not a readable PEM certificate/) });
    expect(webhookChecks(config({ tls: { cert, key: join(dir, 'missing.pem') } }), NOW)[1]).toMatchObject({ ok: false, detail: expect.stringMatching(/^webhooks\.tls\.key: .*missing\.pem is not a readable PEM private key/) });
    const later = new Date(NOW.getTime() + 40 * 365 * 86_400_000);
    expect(webhookChecks(config({ tls: { cert, key } }), later)[1]).toMatchObject({ ok: false, detail: expect.stringMatching(/expired on .*TLS handshake/) });
  });
});
