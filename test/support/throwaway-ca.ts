/**
 * A throwaway certificate authority made in-process for TLS tests: a CA certificate and a server
 * certificate it signed for 127.0.0.1 and localhost. Nothing is written to the machine's trust
 * store; a test trusts the CA only through the file it writes and hands to `connect.caFile`.
 * Keys come from node:crypto; node-forge only builds and signs the X.509 structures.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface ThrowawayCa {
  /** The CA certificate, PEM: what connect.caFile would hold. */
  readonly caPem: string;
  /** A server certificate for 127.0.0.1 / localhost signed by the CA, and its key, PEM. */
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
}

function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e), pem };
}

function certificate(publicKey: forge.pki.PublicKey, subject: string, issuer: string): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive and random: two CAs of one test run never share a serial.
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setIssuer([{ name: 'commonName', value: issuer }]);
  return cert;
}

export function createThrowawayCa(name = 'ud-bridge test CA'): ThrowawayCa {
  const caKeys = keyPair();
  const ca = certificate(caKeys.publicKey, name, name);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = keyPair();
  const server = certificate(serverKeys.publicKey, '127.0.0.1', name);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return { caPem: forge.pki.certificateToPem(ca), serverCertPem: forge.pki.certificateToPem(server), serverKeyPem: serverKeys.pem };
}
