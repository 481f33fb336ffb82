import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base58Decode, base58Encode } from './base58.js';
import { publicKeyDer } from './credentials.js';
import { gatewayToken } from './gateway-token.js';
import { checkServerIdentity, serverIdentityChecker } from './server-identity.js';

function wallet(): { address: string; key: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    address: base58Encode(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url')),
    key: privateKey,
  };
}

const nodeKey = generateKeyPairSync('rsa', { modulusLength: 1024 });
const nodeSpki = publicKeyDer(nodeKey.publicKey);
const cruncher = wallet();
const stranger = wallet();

/** The headers as a node sends them; `text` is the signed message as CrunchDAO's tool writes it. */
function headers(options: { signer?: KeyObject; named?: string; text?: string } = {}) {
  const text =
    options.text ?? `{"cert_pub": "${nodeSpki.toString('base64')}", "hotkey": "hk", "model_id": "m1", "expires_at": 1}`;
  const message = Buffer.from(text);
  return {
    'x-server-auth-message': message.toString('base64'),
    'x-server-auth-signature': sign(null, message, options.signer ?? cruncher.key).toString('base64'),
    'x-server-wallet-pubkey': options.named ?? cruncher.address,
  };
}

const expected = { walletPubkey: cruncher.address, hotkey: 'hk', modelId: 'm1', nodeSpki };

describe('checkServerIdentity', () => {
  it('accepts the node whose identity the announced wallet signed (expires_at is not checked, as the reference)', () => {
    expect(checkServerIdentity(headers(), expected)).toBeNull();
  });

  it('refuses each way the identity can be wrong, in words', () => {
    const otherKey = publicKeyDer(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey).toString('base64');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /no signed identity/],
      [headers({ signer: stranger.key, named: stranger.address }), /signed for wallet .* not the announced/],
      [headers({ signer: stranger.key }), /signature does not verify/],
      [headers({ text: `{"cert_pub": "${otherKey}", "hotkey": "hk", "model_id": "m1"}` }), /cert_pub does not match/],
      [headers({ text: `{"hotkey": "hk", "model_id": "m1"}` }), /no cert_pub/],
      [
        headers({ text: `{"cert_pub": "${nodeSpki.toString('base64')}", "hotkey": "hk", "model_id": "m2"}` }),
        /for model "m2", not "m1"/,
      ],
      [
        headers({ text: `{"cert_pub": "${nodeSpki.toString('base64')}", "hotkey": null, "model_id": "m1"}` }),
        /hotkey null, not the announced "hk"/,
      ],
      [headers({ text: 'not json' }), /not JSON/],
      [{ ...headers(), 'x-server-wallet-pubkey': '0OIl' }, /not valid base64 \/ base58/],
    ];
    for (const [given, reason] of cases) expect(checkServerIdentity(given, expected)).toMatch(reason);
    expect(checkServerIdentity(headers(), { ...expected, walletPubkey: null })).toMatch(/announced no cruncher wallet/);
  });

  it('a checker remembers proven bytes only: other bytes on the same node are checked in full', () => {
    const check = serverIdentityChecker(expected);
    expect(check(headers())).toBeNull();
    expect(check(headers())).toBeNull();
    expect(check(headers({ signer: stranger.key }))).toMatch(/signature does not verify/);
    expect(check({})).toMatch(/no signed identity/);
  });
});

describe('base58', () => {
  it('round-trips any bytes, leading zeros included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(base58Decode(base58Encode(bytes))).toEqual(Buffer.from(bytes));
      }),
    );
    expect(base58Encode(new Uint8Array(32))).toBe('1'.repeat(32));
  });
});

describe('gatewayToken', () => {
  it('signs compact {"model_id","timestamp"} with the RSA key, verifiable with the key it sends', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const credentials = {
      kind: 'gateway' as const,
      directory: '',
      privateKey,
      publicKeyDer: publicKeyDer(privateKey),
      certificateHash: '',
      extraCa: null,
    };
    const token = gatewayToken(credentials, 'm1', 1_700_000_000);
    const message = Buffer.from(token['x-gateway-auth-message'] as string, 'base64');
    expect(message.toString()).toBe('{"model_id":"m1","timestamp":1700000000}');
    const key = Buffer.from(token['x-gateway-auth-pubkey'] as string, 'base64');
    const signature = Buffer.from(token['x-gateway-auth-signature'] as string, 'base64');
    expect(verify('sha256', message, { key, format: 'der', type: 'spki' }, signature)).toBe(true);
    expect(gatewayToken(credentials, 'm1', 1_700_000_031)['x-gateway-auth-message']).not.toBe(
      token['x-gateway-auth-message'],
    );
  });
});
