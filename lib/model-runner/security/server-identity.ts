// The check a secure model node must pass on every call: its answer's initial headers carry a
// message signed by the cruncher's wallet that binds the node's TLS key to the model and hotkey.
//   x-server-auth-message    base64 of JSON bytes {"cert_pub": base64 DER SPKI, "hotkey", "model_id", ...}
//   x-server-auth-signature  base64 Ed25519 signature over exactly those bytes
//   x-server-wallet-pubkey   base58 Solana wallet (32-byte Ed25519 public key)
// The same rules and order as CrunchDAO's client; `expires_at` is not checked (the reference
// parses it but never compares it, and nodes reuse one signed message).
import { createPublicKey, verify } from 'node:crypto';
import { base58Decode } from './base58.js';

export const serverIdentityHeaders = {
  message: 'x-server-auth-message',
  signature: 'x-server-auth-signature',
  wallet: 'x-server-wallet-pubkey',
} as const;

export interface ExpectedIdentity {
  /** `infos.cruncher_wallet_pubkey` as the orchestrator announced it. */
  walletPubkey: string | null | undefined;
  /** `infos.cruncher_hotkey` (null when the model has none). */
  hotkey: string | null | undefined;
  modelId: string;
  /** DER SubjectPublicKeyInfo of the node's own TLS certificate, from the probe. */
  nodeSpki: Buffer;
}

// An Ed25519 public key as DER SPKI is this prefix and the 32 raw bytes.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Headers = Record<string, string | string[] | undefined>;

/** Null when the answer proves the node's identity; otherwise why not, in words (no secret in them). */
export function checkServerIdentity(headers: Headers, expected: ExpectedIdentity): string | null {
  const messageText = single(headers[serverIdentityHeaders.message]);
  const signatureText = single(headers[serverIdentityHeaders.signature]);
  const wallet = single(headers[serverIdentityHeaders.wallet]);
  if (!messageText || !signatureText || !wallet) {
    return `the node sent no signed identity (${Object.values(serverIdentityHeaders).join(' / ')} missing)`;
  }
  const message = strictBase64(messageText);
  const signature = strictBase64(signatureText);
  const walletKey = base58Decode(wallet);
  if (!message || !signature || !walletKey) return 'the identity headers are not valid base64 / base58';
  if (wallet !== expected.walletPubkey) {
    return expected.walletPubkey
      ? `the identity is signed for wallet ${wallet}, not the announced cruncher wallet ${expected.walletPubkey}`
      : `the orchestrator announced no cruncher wallet for model ${expected.modelId}, so its identity cannot be checked`;
  }
  if (walletKey.length !== 32 || signature.length !== 64 || !ed25519Verify(walletKey, message, signature)) {
    return `the identity signature does not verify with wallet ${wallet}`;
  }
  let payload: unknown;
  try {
    payload = JSON.parse(message.toString('utf8'));
  } catch {
    return 'the signed identity message is not JSON';
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload))
    return 'the signed identity is not a JSON object';
  const { cert_pub: certPub, model_id: modelId, hotkey } = payload as Record<string, unknown>;
  if (typeof certPub !== 'string' || certPub === '') return 'the signed identity has no cert_pub';
  const certKey = strictBase64(certPub);
  if (!certKey) return 'the signed identity has a cert_pub that is not base64';
  if (!certKey.equals(expected.nodeSpki)) {
    return "the signed identity is for another TLS key than this node's certificate (cert_pub does not match)";
  }
  if (modelId !== expected.modelId) {
    return `the signed identity is for model ${JSON.stringify(modelId)}, not ${JSON.stringify(expected.modelId)}`;
  }
  if ((hotkey ?? null) !== (expected.hotkey ?? null)) {
    return `the signed identity is for hotkey ${JSON.stringify(hotkey ?? null)}, not the announced ${JSON.stringify(expected.hotkey ?? null)}`;
  }
  return null;
}

/**
 * checkServerIdentity for one node, remembering the headers it last proved: a node replays the same
 * signed bytes on every answer, and checking them again (an Ed25519 verification, ~0.5 ms of CPU
 * here) would cost a fan-out more than the call itself. Different bytes are checked in full.
 */
export function serverIdentityChecker(expected: ExpectedIdentity): (headers: Headers) => string | null {
  let proven: string | null = null;
  return (headers) => {
    const seen = [serverIdentityHeaders.message, serverIdentityHeaders.signature, serverIdentityHeaders.wallet]
      .map((name) => single(headers[name]) ?? '')
      .join('\n');
    if (seen === proven) return null;
    const refusal = checkServerIdentity(headers, expected);
    if (!refusal) proven = seen;
    return refusal;
  };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function strictBase64(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!BASE64.test(trimmed) || trimmed.length % 4 === 1) return null;
  return Buffer.from(trimmed, 'base64');
}

function ed25519Verify(rawKey: Buffer, message: Buffer, signature: Buffer): boolean {
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, rawKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
