// zy1.js — the ZY1 envelope (spec/secure-channel.md) for the browser: key
// derivation, SM4 with the padding checked (amendment 6), opening an answer.
// Sealing (SM2) is in seal.js. Both run only in the sealing worker
// (seal.worker.js): the UI thread loads no SM code (client.js talks to the
// worker through sealer.js). Randomness comes from WebCrypto only.
import { sm3, sm4 } from 'sm-crypto-v2';

export { S_LEN, NONCE_LEN, IV_LEN, ACTIVATE_TX, Zy1Error, randomBytes, concat, hex, fromHex, b64, unb64, canonicalCode } from './bytes.js';
import { NONCE_LEN, IV_LEN, Zy1Error, concat, hex, fromHex, b64, unb64 } from './bytes.js';

const MAC_LEN = 32;
const RESPONSE_MEMBERS = ['v', 'ts', 'iv', 'ct', 'mac'];
const dec = new TextDecoder('utf-8', { fatal: true });
const bytes = (x) => (typeof x === 'string' ? new TextEncoder().encode(x) : x);

export const sm3Hash = (...parts) => fromHex(sm3(concat(...parts)));
export const hmac = (key, ...parts) => fromHex(sm3(concat(...parts), { key }));

/** F for DEVICE_ACTIVATE = SM3("ZY1 act" || tlr || "|" || code). */
export const activationFactor = (tlr, code) => sm3Hash('ZY1 act', tlr, '|', code);

export function deriveKeys(S, F) {
  return {
    kenc: hmac(S, 'ZY1 req enc').subarray(0, 16),
    kmac: hmac(F, 'ZY1 req mac', S),
    renc: hmac(S, 'ZY1 rsp enc').subarray(0, 16),
    rmac: hmac(F, 'ZY1 rsp mac', S),
  };
}

export const requestMacInput = (tx, b) =>
  ['ZY1', tx, b.kid, b.dev, b.tlr ?? '', String(b.ts), b.nonce, b.ek, b.iv, b.ct].join('\n');
const responseMacInput = (tx, nonce, b) => ['ZY1R', tx, nonce, String(b.ts), b.iv, b.ct].join('\n');

export function sm4Encrypt(key, iv, plaintext) {
  return Uint8Array.from(sm4.encrypt(bytes(plaintext), hex(key), { mode: 'cbc', iv: hex(iv), output: 'array' }));
}

/** Decrypts and checks the PKCS#7 padding itself (amendment 6). */
export function sm4Decrypt(key, iv, ct) {
  if (ct.length === 0 || ct.length % 16) throw new Zy1Error('bad_payload', 'ct is not a non-zero multiple of 16 bytes');
  const pt = sm4.decrypt(ct, hex(key), { mode: 'cbc', iv: hex(iv), padding: 'none', output: 'array' });
  const pad = pt[pt.length - 1];
  if (pad < 1 || pad > 16 || Array.prototype.slice.call(pt, pt.length - pad).some((b) => b !== pad))
    throw new Zy1Error('bad_payload', 'bad padding');
  return Uint8Array.from(pt.slice(0, pt.length - pad));
}

function equalCt(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Opens an answer: the MAC is verified before anything is decrypted. Returns the plaintext object. */
export function openResponse(call, bodyText) {
  let b;
  try {
    b = JSON.parse(bodyText);
  } catch {
    throw new Zy1Error('bad_envelope', 'not JSON');
  }
  const have = b && typeof b === 'object' ? Object.keys(b) : [];
  if (have.length !== RESPONSE_MEMBERS.length || !RESPONSE_MEMBERS.every((m) => have.includes(m)) || b.v !== 1 || !Number.isSafeInteger(b.ts))
    throw new Zy1Error('bad_envelope', 'not a sealed response');
  const iv = unb64(b.iv, IV_LEN, 'iv');
  const ct = unb64(b.ct, 0, 'ct');
  const mac = unb64(b.mac, MAC_LEN, 'mac');
  if (!equalCt(hmac(call.keys.rmac, responseMacInput(call.tx, call.nonce, b)), mac))
    throw new Zy1Error('bad_mac', 'response MAC does not match');
  let text;
  try {
    text = dec.decode(sm4Decrypt(call.keys.renc, iv, ct));
  } catch (e) {
    throw e instanceof Zy1Error ? e : new Zy1Error('bad_payload', 'not UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Zy1Error('bad_payload', 'answer is not JSON');
  }
}
