// seal.js — sealing a ZY1 request (spec/secure-channel.md, request steps 1-6).
// SM2 (the wrap of S) is the slow part (docs/tablet.md "ZY1 in the browser"),
// so this module is loaded only by seal.worker.js: the UI thread never runs it.
// S, nonce, iv and the SM2 ephemeral k all come from WebCrypto
// (crypto.getRandomValues; sm-crypto-v2 draws k through it, amendment 6).
import { sm2 } from 'sm-crypto-v2';
import { S_LEN, NONCE_LEN, IV_LEN, ACTIVATE_TX, randomBytes, hex, fromHex, b64, unb64 } from './bytes.js';
import { hmac, deriveKeys, sm4Encrypt, requestMacInput } from './zy1.js';

/** ek = SM2-Encrypt(pub, S), C1 || C3 || C2 without the 04 of C1 (the 128-byte form). */
export function wrapSecret(pubB64, S) {
  const pubHex = hex(unb64(pubB64, 65, 'pub'));
  const raw = fromHex(sm2.doEncrypt(S, pubHex, 1));
  if (raw.length !== 96 + S.length) throw new Error(`SM2 ciphertext is ${raw.length} bytes`);
  return raw;
}

/**
 * Seals a request. p: {pubB64, kid, dev, tx, tlr?, F, ts, payload (string)}.
 * Returns {body (text), call: {tx, nonce, keys}} — keep call to open the answer.
 */
export function sealRequest(p) {
  const S = randomBytes(S_LEN);
  const nonce = randomBytes(NONCE_LEN);
  const iv = randomBytes(IV_LEN);
  const ek = wrapSecret(p.pubB64, S);
  const keys = deriveKeys(S, p.F);
  S.fill(0);
  const b = { v: 1, kid: p.kid, dev: p.dev };
  if (p.tx === ACTIVATE_TX) b.tlr = p.tlr;
  Object.assign(b, { ts: p.ts, nonce: b64(nonce), ek: b64(ek), iv: b64(iv), ct: b64(sm4Encrypt(keys.kenc, iv, p.payload)) });
  b.mac = b64(hmac(keys.kmac, requestMacInput(p.tx, b)));
  return { body: JSON.stringify(b), call: { tx: p.tx, nonce: b.nonce, keys } };
}

