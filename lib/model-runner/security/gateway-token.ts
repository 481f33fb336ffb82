// Gateway mode's per-call token: the coordinator signs {"model_id","timestamp"} with its enrolled RSA
// key (PKCS#1 v1.5, SHA-256); the gateway checks the key's hash against the coordinator's on-chain
// certificate hashes, the signature, and that the timestamp is within 30 s of its clock. A fresh
// timestamp each call, so a token seen once is useless half a minute later.
import { sign } from 'node:crypto';
import type { GatewayCredentials } from './credentials.js';

export const gatewayTokenHeaders = {
  message: 'x-gateway-auth-message',
  signature: 'x-gateway-auth-signature',
  pubkey: 'x-gateway-auth-pubkey',
} as const;

export function gatewayToken(
  credentials: GatewayCredentials,
  modelId: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  // Compact JSON, the bytes the reference signs: {"model_id":"...","timestamp":123}.
  const message = Buffer.from(JSON.stringify({ model_id: modelId, timestamp: nowSeconds }));
  return {
    [gatewayTokenHeaders.message]: message.toString('base64'),
    [gatewayTokenHeaders.signature]: sign('sha256', message, credentials.privateKey).toString('base64'),
    [gatewayTokenHeaders.pubkey]: credentials.publicKeyDer.toString('base64'),
  };
}
