// The certificates a test control plane needs, as envtest makes them: a throwaway CA, a serving
// certificate for 127.0.0.1/localhost, a client certificate for an admin in system:masters, and
// the service-account signing key pair. Keys come from node:crypto; certificates from the openssl
// CLI, since node:crypto cannot issue X.509 certificates.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { locateBinary } from './binaries.js';
import { runCommandOrThrow } from './run-command.js';

export interface PemFiles {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface ControlPlanePki {
  ca: PemFiles;
  /** The API server's serving certificate (SANs 127.0.0.1, localhost). */
  serving: PemFiles;
  /** A client certificate for user `harness-admin` in group `system:masters`. */
  admin: PemFiles;
  serviceAccount: { privateKeyFile: string; publicKeyFile: string };
}

const generate = promisify(generateKeyPair);

async function ecPrivateKey(file: string): Promise<string> {
  const { privateKey } = await generate('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await writeFile(file, privateKey, { mode: 0o600 });
  return privateKey;
}

export interface CertificateRequest {
  dir: string;
  name: string;
  commonName: string;
  organization?: string;
  /** Lines of an openssl extensions file. */
  extensions: string[];
  /** Omitted for the self-signed CA. */
  issuer?: PemFiles;
}

/** Issues a certificate (a key, CSR and openssl x509) into `request.dir`, self-signed without an issuer. */
export async function issueCertificate(request: CertificateRequest): Promise<PemFiles> {
  const openssl = locateBinary('openssl');
  const { dir, name } = request;
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const csrFile = join(dir, `${name}.csr`);
  const configFile = join(dir, `${name}.req.cnf`);
  const extFile = join(dir, `${name}.ext.cnf`);
  const keyPem = await ecPrivateKey(keyFile);
  // An explicit config keeps the result independent of the system's openssl.cnf.
  const subject = [`CN = ${request.commonName}`];
  if (request.organization) subject.push(`O = ${request.organization}`);
  await writeFile(
    configFile,
    ['[req]', 'prompt = no', 'distinguished_name = dn', '[dn]', ...subject, ''].join('\n'),
  );
  await writeFile(extFile, [...request.extensions, ''].join('\n'));
  await runCommandOrThrow(openssl, ['req', '-new', '-config', configFile, '-key', keyFile, '-out', csrFile]);
  const signer = request.issuer
    ? ['-CA', request.issuer.certFile, '-CAkey', request.issuer.keyFile]
    : ['-signkey', keyFile];
  await runCommandOrThrow(openssl, [
    'x509',
    '-req',
    '-in',
    csrFile,
    ...signer,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '7',
    '-extfile',
    extFile,
    '-out',
    certFile,
  ]);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem };
}

/** Writes a complete PKI for a test control plane into `dir`. */
export async function createControlPlanePki(dir: string): Promise<ControlPlanePki> {
  const ca = await createCertificateAuthority(dir, 'chatcluster-harness-ca');
  const [serving, admin] = await Promise.all([
    issueCertificate({
      dir,
      name: 'apiserver',
      commonName: 'kube-apiserver',
      extensions: [...leafExtensions('serverAuth'), 'subjectAltName = IP:127.0.0.1, DNS:localhost'],
      issuer: ca,
    }),
    issueCertificate({
      dir,
      name: 'admin',
      commonName: 'harness-admin',
      organization: 'system:masters',
      extensions: leafExtensions('clientAuth'),
      issuer: ca,
    }),
  ]);
  const serviceAccount = await createServiceAccountKeys(dir);
  return { ca, serving, admin, serviceAccount };
}

/** A self-signed CA certificate and key (`ca.crt`, `ca.key`) in `dir`. */
export function createCertificateAuthority(dir: string, commonName: string): Promise<PemFiles> {
  return issueCertificate({
    dir,
    name: 'ca',
    commonName,
    extensions: [
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
    ],
  });
}

/** The extensions of a leaf certificate for `usage` (`serverAuth`, `clientAuth` or both). */
export function leafExtensions(usage: string): string[] {
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${usage}`,
    'authorityKeyIdentifier = keyid',
  ];
}

/** The RSA key pair the API server signs service-account tokens with. */
export async function createServiceAccountKeys(
  dir: string,
): Promise<{ privateKeyFile: string; publicKeyFile: string }> {
  const { publicKey, privateKey } = await generate('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const serviceAccount = {
    privateKeyFile: join(dir, 'service-account.key'),
    publicKeyFile: join(dir, 'service-account.pub'),
  };
  await writeFile(serviceAccount.privateKeyFile, privateKey, { mode: 0o600 });
  await writeFile(serviceAccount.publicKeyFile, publicKey);
  return serviceAccount;
}
