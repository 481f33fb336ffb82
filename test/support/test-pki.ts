// A throw-away PKI for secure-mode tests, made at test time with the openssl CLI (no key is ever
// committed): a test CA and another one, certificates for model nodes and for the coordinator, and
// Ed25519 wallets that sign a node's identity the way CrunchDAO's certificate tool does.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base58Encode } from '../../lib/model-runner/security/base58.js';
import { spkiHash } from '../../lib/model-runner/security/credentials.js';

export interface Issued {
  certPem: Buffer;
  keyPem: Buffer;
  /** DER SubjectPublicKeyInfo of the certificate's key. */
  spki: Buffer;
  /** Lower-case hex SHA-256 of the SPKI: what goes on chain. */
  hash: string;
}

export interface Authority extends Issued {
  name: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed (the openssl CLI is needed: apt-get install openssl): ${stderr}`);
  }
}

export class TestPki {
  readonly directory = mkdtempSync(join(tmpdir(), 'test-pki-'));
  private serial = 0;

  /** A self-signed certificate authority. */
  authority(name: string): Authority {
    const dir = this.fresh(name);
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
        '-subj',
        `/CN=${name}`,
        '-days',
        '2',
      ],
      dir,
    );
    return { name, ...this.read(dir) };
  }

  /**
   * A certificate signed by `by`: for a model node (SAN = its DNS names / IPs, serverAuth) or for the
   * coordinator (clientAuth). `expired`: its validity ended a day ago.
   */
  issue(
    by: Authority,
    options: {
      commonName: string;
      dns?: string[];
      ips?: string[];
      client?: boolean;
      expired?: boolean;
      keyType?: 'rsa' | 'ec';
    },
  ): Issued {
    const dir = this.fresh(options.commonName);
    writeFileSync(join(dir, 'ca.pem'), by.certPem);
    writeFileSync(join(dir, 'ca.key'), by.keyPem);
    const names = [...(options.dns ?? []).map((dns) => `DNS:${dns}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)];
    const extensions = [`extendedKeyUsage=${options.client ? 'clientAuth' : 'serverAuth'}`];
    if (names.length) extensions.push(`subjectAltName=${names.join(',')}`);
    writeFileSync(join(dir, 'ext'), `${extensions.join('\n')}\n`);
    const newKey =
      options.keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
    openssl(
      ['req', ...newKey, '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', `/CN=${options.commonName}`],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'req.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(1000 + this.serial),
        '-out',
        'cert.pem',
        '-days',
        options.expired ? '-1' : '2',
        '-extfile',
        'ext',
      ],
      dir,
    );
    rmSync(join(dir, 'ca.key'));
    return this.read(dir);
  }

  /** A credentials directory as the platform's enrolment download has it: ca.crt, tls.crt, tls.key. */
  credentialsDirectory(name: string, files: { ca: Buffer; cert: Buffer; key: Buffer }): string {
    const dir = this.fresh(`credentials-${name}`);
    writeFileSync(join(dir, 'ca.crt'), files.ca);
    writeFileSync(join(dir, 'tls.crt'), files.cert);
    writeFileSync(join(dir, 'tls.key'), files.key);
    return dir;
  }

  dispose(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }

  private fresh(name: string): string {
    const dir = join(this.directory, `${++this.serial}-${name.replace(/[^\w.-]/g, '_')}`);
    mkdirSync(dir);
    return dir;
  }

  private read(dir: string): Issued {
    const certPem = readFileSync(join(dir, 'cert.pem'));
    const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return { certPem, keyPem: readFileSync(join(dir, 'key.pem')), spki, hash: spkiHash(spki) };
  }
}

/** A test Solana-style wallet: an Ed25519 key pair; `address` is the base58 public key. */
export interface TestWallet {
  address: string;
  privateKey: KeyObject;
}

export function newWallet(): TestWallet {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return { address: base58Encode(raw), privateKey };
}

/**
 * The three headers a secure node replays on every answer: the message CrunchDAO's certificate tool
 * signs (Python json.dumps with its default separators), the wallet's signature, the wallet.
 */
export function signedIdentity(options: {
  wallet: TestWallet;
  /** The wallet whose address the headers name (default: the signer). */
  namedWallet?: TestWallet;
  certPub: Buffer;
  modelId: string;
  hotkey: string | null;
}): Record<string, string> {
  const message = Buffer.from(
    `{"cert_pub": "${options.certPub.toString('base64')}", "hotkey": ${JSON.stringify(options.hotkey)}, "model_id": ${JSON.stringify(options.modelId)}}`,
  );
  return {
    'x-server-auth-message': message.toString('base64'),
    'x-server-auth-signature': sign(null, message, options.wallet.privateKey).toString('base64'),
    'x-server-wallet-pubkey': (options.namedWallet ?? options.wallet).address,
  };
}
