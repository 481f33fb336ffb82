// The coordinator's credentials for CrunchDAO's model nodes, loaded and checked once at start, so a
// wrong file is one clear error instead of every model failing its handshake later.
// Secure mode: a directory with ca.crt (verifies the nodes), tls.crt and tls.key (our client
// certificate, enrolled on the platform). Gateway mode: the same RSA key, signing a token per call.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SecureCredentials {
  kind: 'secure';
  directory: string;
  /** PEM of the authority that signs the model nodes' certificates. */
  ca: Buffer;
  /** Our client certificate (PEM) and its private key (PEM). */
  cert: Buffer;
  key: Buffer;
  /** Lower-case hex SHA-256 of our certificate's DER SubjectPublicKeyInfo: the hash registered on chain. */
  certificateHash: string;
}

export interface GatewayCredentials {
  kind: 'gateway';
  directory: string;
  /** The RSA key that signs the per-call token. */
  privateKey: KeyObject;
  /** DER SubjectPublicKeyInfo of that key, sent with every call. */
  publicKeyDer: Buffer;
  certificateHash: string;
  /** Extra trusted roots besides Node's public ones (a gateway with a private CA, e.g. in tests). */
  extraCa: Buffer | null;
}

export type ModelCredentials = SecureCredentials | GatewayCredentials;

/** A credentials file that is missing or wrong; the message names the file and what to do. */
export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

/** Lower-case hex SHA-256 of a DER SubjectPublicKeyInfo: the form of the on-chain certificate hash. */
export function spkiHash(spkiDer: Buffer): string {
  return createHash('sha256').update(spkiDer).digest('hex');
}

export function publicKeyDer(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}

/**
 * The mode the settings ask for: SECURE_CERT_DIR (mutual TLS, signed server identity),
 * GATEWAY_CERT_DIR (TLS gateway, signed token per call), or neither (plain gRPC on a local network).
 */
export function loadModelCredentials(dirs: {
  secureCertDir?: string | undefined;
  gatewayCertDir?: string | undefined;
}): ModelCredentials | null {
  if (dirs.secureCertDir && dirs.gatewayCertDir) {
    throw new CredentialsError(
      'SECURE_CERT_DIR and GATEWAY_CERT_DIR are both set: a coordinator reaches its model nodes in one mode; set only one',
    );
  }
  if (dirs.secureCertDir) return loadSecureCredentials(dirs.secureCertDir);
  if (dirs.gatewayCertDir) return loadGatewayCredentials(dirs.gatewayCertDir);
  return null;
}

export function loadSecureCredentials(directory: string): SecureCredentials {
  const setting = 'SECURE_CERT_DIR';
  const ca = readRequired(directory, 'ca.crt', setting);
  const cert = readRequired(directory, 'tls.crt', setting);
  const key = readRequired(directory, 'tls.key', setting);
  certificates(ca, join(directory, 'ca.crt'));
  const privateKey = rsaPrivateKey(key, join(directory, 'tls.key'));
  const leaf = certificates(cert, join(directory, 'tls.crt'))[0] as X509Certificate;
  mustMatch(leaf, privateKey, join(directory, 'tls.crt'), join(directory, 'tls.key'));
  return {
    kind: 'secure',
    directory,
    ca,
    cert,
    key,
    certificateHash: spkiHash(publicKeyDer(leaf.publicKey)),
  };
}

/**
 * GATEWAY_CERT_DIR: `key.pem` (the name CrunchDAO's node starters use) or `tls.key` (the name in the
 * platform's enrolment download); `tls.crt` / `cert.pem` when present is checked against the key;
 * `ca.crt` when present is trusted besides the public roots.
 */
export function loadGatewayCredentials(directory: string): GatewayCredentials {
  const setting = 'GATEWAY_CERT_DIR';
  const keyName = existsSync(join(directory, 'key.pem')) ? 'key.pem' : 'tls.key';
  if (!existsSync(join(directory, keyName))) {
    throw new CredentialsError(
      `${setting}=${directory} has no key.pem (nor tls.key): put the RSA key enrolled on the platform there`,
    );
  }
  const privateKey = rsaPrivateKey(readRequired(directory, keyName, setting), join(directory, keyName));
  const certName = ['tls.crt', 'cert.pem'].find((name) => existsSync(join(directory, name)));
  if (certName) {
    const path = join(directory, certName);
    mustMatch(certificates(readFileSync(path), path)[0] as X509Certificate, privateKey, path, join(directory, keyName));
  }
  const caPath = join(directory, 'ca.crt');
  let extraCa: Buffer | null = null;
  if (existsSync(caPath)) {
    extraCa = readFileSync(caPath);
    certificates(extraCa, caPath);
  }
  const der = publicKeyDer(privateKey);
  return { kind: 'gateway', directory, privateKey, publicKeyDer: der, certificateHash: spkiHash(der), extraCa };
}

function readRequired(directory: string, name: string, setting: string): Buffer {
  const path = join(directory, name);
  try {
    return readFileSync(path);
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'is missing'
        : `cannot be read (${(error as Error).message})`;
    throw new CredentialsError(`${setting}: ${path} ${why}; the directory must hold ca.crt, tls.crt and tls.key`);
  }
}

/** Every certificate of a PEM file, in order; at least one. */
function certificates(pem: Buffer, path: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new CredentialsError(`${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new CredentialsError(`${path} holds a certificate that cannot be read: ${(error as Error).message}`);
    }
  });
}

/** The platform enrols RSA keys only (and the on-chain hash is of that key): anything else is refused here. */
function rsaPrivateKey(pem: Buffer, path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    const message = (error as Error).message;
    const why = /passphrase|encrypted/i.test(message)
      ? 'is encrypted; give the key without a passphrase'
      : 'is not a PEM private key';
    throw new CredentialsError(`${path} ${why}`);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CredentialsError(
      `${path} is an ${key.asymmetricKeyType ?? 'unknown'} key; CrunchDAO's certificate enrolment uses RSA keys`,
    );
  }
  return key;
}

function mustMatch(certificate: X509Certificate, key: KeyObject, certPath: string, keyPath: string): void {
  if (!certificate.checkPrivateKey(key)) {
    throw new CredentialsError(`${certPath} is not the certificate of ${keyPath}: the two files do not match`);
  }
}
