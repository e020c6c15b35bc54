// bytes.js — the ZY1 client's pure helpers (no SM algorithm): sizes, byte
// conversions, strict base64, WebCrypto randomness, the activation code's
// canonical form. The UI thread uses these; everything SM2/SM3/SM4 runs in
// the sealing worker (seal.worker.js over zy1.js and seal.js).
export const S_LEN = 32;
export const NONCE_LEN = 16;
export const IV_LEN = 16;
export const ACTIVATE_TX = 'DEVICE_ACTIVATE';

const enc = new TextEncoder();

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

/** Typed activation code → the server's form (amendment 5), or null if it cannot be one. */
export function canonicalCode(typed) {
  const c = String(typed).toUpperCase().replace(/[\s-]/g, '');
  if (!/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$/.test(c)) return null;
  return `${c.slice(0, 4)}-${c.slice(4)}`;
}

