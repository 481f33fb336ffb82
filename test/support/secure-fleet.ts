// The production cases of secure and gateway modes, as test model nodes in front of one real
// model-runner process: a good node and one per way a node (or the coordinator) can be wrong.
import { modelNodeHostname } from '../../lib/model-runner/security/tls-probe.js';
import { type SecureModelNode, startSecureModelNode } from './secure-model-node.js';
import { type Authority, type Issued, newWallet, signedIdentity, TestPki, type TestWallet } from './test-pki.js';

/** What each secure-mode test node gets wrong, and the words our client reports for it. */
export const secureCases = {
  good: null,
  'other-wallet': /signed for wallet .*, not the announced cruncher wallet/,
  'forged-signature': /signature does not verify/,
  replayed: /another TLS key than this node's certificate \(cert_pub does not match\)/,
  unregistered: /TLS certificate hash does not match registered certificate/,
  expired: /certificate has expired/,
  'wrong-ca': /not signed by a trusted authority/,
  'wrong-name': /certificate is not for this name/,
  'client-refused': /refused our client certificate|refused the TLS handshake/,
} as const;
export type SecureCase = keyof typeof secureCases;

export const gatewayCases = { 'gateway-good': null, 'gateway-bad': /certificate not registered/ } as const;
export type GatewayCase = keyof typeof gatewayCases;

export interface TestNode {
  modelId: string;
  node: SecureModelNode;
  wallet: string;
  hotkey: string;
  /** The identity headers it replays (none for a gateway). */
  identity: Record<string, string>;
}

export class SecureFleet {
  readonly pki = new TestPki();
  readonly ca: Authority;
  readonly otherCa: Authority;
  readonly coordinator: Issued;
  /** SECURE_CERT_DIR of the coordinator: ca.crt, tls.crt, tls.key. */
  readonly secureDir: string;
  /** GATEWAY_CERT_DIR: the same enrolled key, and the test CA the gateways' certificates chain to. */
  readonly gatewayDir: string;
  readonly wallet: TestWallet = newWallet();
  readonly otherWallet: TestWallet = newWallet();
  private readonly nodes: SecureModelNode[] = [];

  constructor() {
    this.ca = this.pki.authority('crunchdao-test-ca');
    this.otherCa = this.pki.authority('another-ca');
    this.coordinator = this.pki.issue(this.ca, { commonName: 'coordinator', client: true });
    const files = { ca: this.ca.certPem, cert: this.coordinator.certPem, key: this.coordinator.keyPem };
    this.secureDir = this.pki.credentialsDirectory('secure', files);
    this.gatewayDir = this.pki.credentialsDirectory('gateway', files);
  }

  /** A secure node for `modelId` that gets `kind` wrong (or nothing, for 'good'). */
  async secureNode(kind: SecureCase, modelId: string, upstreamPort: number, port?: number): Promise<TestNode> {
    const hostname = modelNodeHostname(modelId);
    const issuer = kind === 'wrong-ca' ? this.otherCa : this.ca;
    const certName = kind === 'wrong-name' ? modelNodeHostname(`not-${modelId}`) : hostname;
    const cert = this.pki.issue(issuer, { commonName: certName, dns: [certName], expired: kind === 'expired' });
    const hotkey = `hotkey-${modelId}`;
    const signer = kind === 'other-wallet' || kind === 'forged-signature' ? this.otherWallet : this.wallet;
    const certPub =
      kind === 'replayed' ? this.pki.issue(this.ca, { commonName: hostname, dns: [hostname] }).spki : cert.spki;
    const identity = signedIdentity({
      wallet: signer,
      namedWallet: kind === 'forged-signature' ? this.wallet : signer,
      certPub,
      modelId,
      hotkey,
    });
    const node = await startSecureModelNode({
      mode: 'secure',
      upstreamPort,
      cert: cert.certPem,
      key: cert.keyPem,
      clientCa: kind === 'client-refused' ? this.otherCa.certPem : this.ca.certPem,
      registeredHashes: kind === 'unregistered' ? ['0'.repeat(64)] : [this.coordinator.hash],
      identity,
      ...(port ? { port } : {}),
    });
    this.nodes.push(node);
    return { modelId, node, wallet: this.wallet.address, hotkey, identity };
  }

  /** A TLS gateway (certificate for 127.0.0.1 from the test CA) that takes our token, or not. */
  async gatewayNode(kind: GatewayCase, modelId: string, upstreamPort: number): Promise<TestNode> {
    const cert = this.pki.issue(this.ca, { commonName: 'gateway', ips: ['127.0.0.1'], dns: ['localhost'] });
    const node = await startSecureModelNode({
      mode: 'gateway',
      upstreamPort,
      cert: cert.certPem,
      key: cert.keyPem,
      registeredHashes: kind === 'gateway-bad' ? ['0'.repeat(64)] : [this.coordinator.hash],
    });
    this.nodes.push(node);
    return { modelId, node, wallet: this.wallet.address, hotkey: `hotkey-${modelId}`, identity: {} };
  }

  /** The identity headers of a node whose certificate is not known here: signed by `wallet` for `modelId`. */
  identitySignedBy(wallet: TestWallet, modelId: string, hotkey: string): Record<string, string> {
    const stranger = this.pki.issue(this.ca, { commonName: modelId, dns: [modelNodeHostname(modelId)] });
    return signedIdentity({ wallet, certPub: stranger.spki, modelId, hotkey });
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
    this.pki.dispose();
  }
}
