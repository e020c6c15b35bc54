// zy1.js — the ZY1 envelope (spec/secure-channel.md) for the browser: seal a
// request, open its answer. Pure functions over bytes; randomness comes from
// WebCrypto (crypto.getRandomValues) only (spec amendment 6). Storage, the
// session and the network live in client.js.
import { sm2, sm3, sm4 } from 'sm-crypto-v2';

export const S_LEN = 32;
const NONCE_LEN = 16;
const IV_LEN = 16;
const MAC_LEN = 32;
export const ACTIVATE_TX = 'DEVICE_ACTIVATE';
const RESPONSE_MEMBERS = ['v', 'ts', 'iv', 'ct', 'mac'];

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A channel failure with the spec's code (bad_envelope, bad_mac, bad_payload). */
export class Zy1Error extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export const randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));
const bytes = (x) => (typeof x === 'string' ? enc.encode(x) : x);
export function concat(...parts) {
  const u = parts.map(bytes);
  const out = new Uint8Array(u.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of u) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
export const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
export function fromHex(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(i * 2, 2), 16);
  return out;
}
export function b64(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
  return btoa(s);
}
/** Strict base64: the text must re-encode to itself, with the length asked for (0: any). */
export function unb64(text, len, field) {
  let out;
  try {
    out = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    out = null;
  }
  if (!out || typeof text !== 'string' || b64(out) !== text || (len && out.length !== len))
    throw new Zy1Error('bad_envelope', `${field} is not base64 of the right length`);
  return out;
}

export const sm3Hash = (...parts) => fromHex(sm3(concat(...parts)));
export const hmac = (key, ...parts) => fromHex(sm3(concat(...parts), { key }));

/** Typed activation code → the server's form (amendment 5), or null if it cannot be one. */
export function canonicalCode(typed) {
  const c = String(typed).toUpperCase().replace(/[\s-]/g, '');
  if (!/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/.test(c)) return null;
  return `${c.slice(0, 4)}-${c.slice(4)}`;
}

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

const requestMacInput = (tx, b) =>
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
