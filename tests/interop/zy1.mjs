// zy1.mjs — a ZY1 peer (client and server side) in JavaScript, written from
// spec/secure-channel.md alone on top of the npm package sm-crypto, the
// library a web or hybrid tablet client would use. It is independent of the
// C code on purpose: interop.mjs pairs every step here with the C library.
//
// sm-crypto quirks this file has to work around (see README.md):
//  - sm2.doEncrypt writes C1 without its leading 04 (128-byte ek) and
//    sm2.doDecrypt only reads that form: the 04 and DER forms are converted
//    here;
//  - sm2.doDecrypt answers [] instead of throwing when C3 does not match;
//  - sm4.decrypt's PKCS#7 check accepts a pad byte of 0 and pad bytes above
//    16, so the padding is removed and checked here;
//  - sm3's hmac key, when a string, is read as hex: keys are passed as bytes;
//  - sm-crypto's own RNG is RC4 keyed once: S, nonce and iv come from
//    node:crypto instead (the SM2 ephemeral k still comes from sm-crypto).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import smCrypto from 'sm-crypto';

const { sm2, sm3, sm4 } = smCrypto;

export const S_LEN = 32;
const NONCE_LEN = 16;
const IV_LEN = 16;
const MAC_LEN = 32;
const ACTIVATE_TX = 'DEVICE_ACTIVATE';
const REQUEST_MEMBERS = ['v', 'kid', 'dev', 'tlr', 'ts', 'nonce', 'ek', 'iv', 'ct', 'mac'];
const RESPONSE_MEMBERS = ['v', 'ts', 'iv', 'ct', 'mac'];

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A failure with the spec's error code (bad_envelope, bad_mac, bad_payload). */
export class Zy1Error extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

const bytes = (x) => (typeof x === 'string' ? enc.encode(x) : Uint8Array.from(x));
const concat = (...parts) => Buffer.concat(parts.map((p) => bytes(p)));
const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
export const hex = (u8) => Buffer.from(u8).toString('hex');
export const b64 = (u8) => Buffer.from(u8).toString('base64');

/** Strict base64 (node's decoder skips junk): the text must re-encode to itself. */
export function unb64(text, len, field) {
  const out = Buffer.from(text, 'base64');
  if (typeof text !== 'string' || out.toString('base64') !== text || (len && out.length !== len))
    throw new Zy1Error('bad_envelope', `${field} is not base64 of the right length`);
  return Uint8Array.from(out);
}

export const sm3Hash = (...parts) => fromHex(sm3(Array.from(concat(...parts))));
/** HMAC-SM3 of the concatenation of parts; the key is given as bytes on purpose. */
export const hmac = (key, ...parts) =>
  fromHex(sm3(Array.from(concat(...parts)), { key: Array.from(key) }));

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

export const keysHex = (k) => Object.fromEntries(Object.entries(k).map(([n, v]) => [n, hex(v)]));
export const keysFromHex = (k) => Object.fromEntries(Object.entries(k).map(([n, v]) => [n, fromHex(v)]));

export const requestMacInput = (tx, b) =>
  ['ZY1', tx, b.kid, b.dev, b.tlr ?? '', String(b.ts), b.nonce, b.ek, b.iv, b.ct].join('\n');
export const responseMacInput = (tx, nonce, b) =>
  ['ZY1R', tx, nonce, String(b.ts), b.iv, b.ct].join('\n');

// ---- SM4-CBC with PKCS#7 --------------------------------------------------

export function sm4Encrypt(key, iv, plaintext) {
  return Uint8Array.from(
    sm4.encrypt(Array.from(bytes(plaintext)), hex(key), { mode: 'cbc', iv: hex(iv), output: 'array' }),
  );
}

/** Decrypts and checks the padding strictly (sm-crypto's own check is lax). */
export function sm4Decrypt(key, iv, ct) {
  if (ct.length === 0 || ct.length % 16)
    throw new Zy1Error('bad_payload', 'ct is not a non-zero multiple of 16 bytes');
  const pt = sm4.decrypt(Array.from(ct), hex(key), {
    mode: 'cbc',
    iv: hex(iv),
    padding: 'none',
    output: 'array',
  });
  const pad = pt[pt.length - 1];
  if (pad < 1 || pad > 16 || pt.slice(pt.length - pad).some((b) => b !== pad))
    throw new Zy1Error('bad_payload', 'bad padding');
  return Uint8Array.from(pt.slice(0, pt.length - pad));
}

// ---- SM2 ciphertext encodings ---------------------------------------------

function derLength(n) {
  if (n < 0x80) return [n];
  return n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
}
const tlv = (tag, content) => concat([tag, ...derLength(content.length)], content);
function derInteger(u8) {
  let i = 0;
  while (i < u8.length - 1 && u8[i] === 0) i++;
  const v = u8.subarray(i);
  return tlv(0x02, v[0] & 0x80 ? concat([0], v) : v);
}

/** GM/T 0009 SM2Cipher ::= SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING, C2 OCTET STRING }. */
export function sm2CipherDer(raw64) {
  const x = raw64.subarray(0, 32), y = raw64.subarray(32, 64);
  const c3 = raw64.subarray(64, 96), c2 = raw64.subarray(96);
  return tlv(0x30, concat(derInteger(x), derInteger(y), tlv(0x04, c3), tlv(0x04, c2)));
}

/** Reads one TLV at p; strict DER lengths. */
function readTlv(u8, p, tag) {
  if (u8[p] !== tag) throw new Error('tag');
  let len = u8[p + 1], q = p + 2;
  if (len === 0x81) [len, q] = [u8[p + 2], p + 3];
  else if (len === 0x82) [len, q] = [(u8[p + 2] << 8) | u8[p + 3], p + 4];
  else if (len > 0x7f) throw new Error('length');
  if (q + len > u8.length) throw new Error('truncated');
  return { value: u8.subarray(q, q + len), end: q + len };
}

function intTo32(v) {
  const t = v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
  if (t.length > 32) throw new Error('integer');
  return concat(new Uint8Array(32 - t.length), t);
}

/** The 128-byte form sm-crypto reads, from DER; throws when u8 is not DER. */
function derToRaw64(u8) {
  const seq = readTlv(u8, 0, 0x30);
  if (seq.end !== u8.length) throw new Error('trailing');
  const s = seq.value;
  const x = readTlv(s, 0, 0x02), y = readTlv(s, x.end, 0x02);
  const c3 = readTlv(s, y.end, 0x04), c2 = readTlv(s, c3.end, 0x04);
  if (c2.end !== s.length || c3.value.length !== 32) throw new Error('shape');
  return concat(intTo32(x.value), intTo32(y.value), c3.value, c2.value);
}

/** Which of the three ek encodings u8 is (as the C server classifies it for a 32-byte S), and its 128-byte form. */
export function ekToRaw64(u8) {
  if (u8[0] === 0x30) {
    try {
      return { form: 'der', raw64: derToRaw64(u8) };
    } catch {
      // not DER: a raw form that happens to start with 0x30
    }
  }
  if (u8.length === 97 + S_LEN && u8[0] === 0x04) return { form: 'raw65', raw64: u8.subarray(1) };
  if (u8.length === 96 + S_LEN) return { form: 'raw64', raw64: u8 };
  return { form: 'invalid', raw64: null };
}

/** ek = SM2-Encrypt(pub, S) in C1C3C2 order, in the encoding asked for. */
export function wrapSecret(pubB64, S, form) {
  const pubHex = hex(unb64(pubB64, 65, 'pub'));
  const raw64 = fromHex(sm2.doEncrypt(Array.from(S), pubHex, 1));
  if (raw64.length !== 96 + S.length) throw new Error(`sm-crypto ek is ${raw64.length} bytes`);
  if (form === 'raw64') return raw64;
  if (form === 'raw65') return concat([0x04], raw64);
  if (form === 'der') return sm2CipherDer(raw64);
  throw new Error(`unknown ek form ${form}`);
}

/** S from ek in any encoding; anything but 32 bytes of S is bad_mac, as on the server. */
export function unwrapSecret(privHex, ek) {
  const { form, raw64 } = ekToRaw64(ek);
  const S = raw64 ? sm2.doDecrypt(hex(raw64), privHex, 1, { output: 'array' }) : [];
  if (S.length !== S_LEN) throw new Zy1Error('bad_mac', 'request rejected');
  return { form, S: Uint8Array.from(S) };
}

// ---- client ---------------------------------------------------------------

/**
 * Seals a request. p: {pubB64, kid, dev, tx, tlr?, F, ts, payload, ekForm,
 * fixed?: {S, nonce, iv, ek}} — fixed values are for the spec vectors.
 * Returns {body (text), fields (object), call: {tx, nonce, keys}}.
 */
export function sealRequest(p) {
  const fx = p.fixed ?? {};
  const S = fx.S ?? randomBytes(S_LEN);
  const nonce = fx.nonce ?? randomBytes(NONCE_LEN);
  const iv = fx.iv ?? randomBytes(IV_LEN);
  const ek = fx.ek ?? wrapSecret(p.pubB64, S, p.ekForm ?? 'raw64');
  const keys = deriveKeys(S, p.F);
  const b = { v: 1, kid: p.kid, dev: p.dev };
  if (p.tx === ACTIVATE_TX) b.tlr = p.tlr;
  Object.assign(b, {
    ts: p.ts,
    nonce: b64(nonce),
    ek: b64(ek),
    iv: b64(iv),
    ct: b64(sm4Encrypt(keys.kenc, iv, p.payload)),
  });
  b.mac = b64(hmac(keys.kmac, requestMacInput(p.tx, b)));
  return { body: JSON.stringify(b), fields: b, call: { tx: p.tx, nonce: b.nonce, keys } };
}

/** Opens a response: the MAC is verified before anything is decrypted. */
export function openResponse(call, bodyText) {
  const b = strictObject(bodyText, RESPONSE_MEMBERS, []);
  if (b.v !== 1 || !Number.isSafeInteger(b.ts) || b.ts <= 0)
    throw new Zy1Error('bad_envelope', 'not a sealed response');
  const iv = unb64(b.iv, IV_LEN, 'iv');
  const ct = unb64(b.ct, 0, 'ct');
  const mac = unb64(b.mac, MAC_LEN, 'mac');
  const want = hmac(call.keys.rmac, responseMacInput(call.tx, call.nonce, b));
  if (!timingSafeEqual(want, mac)) throw new Zy1Error('bad_mac', 'response MAC does not match');
  return { plaintext: utf8(sm4Decrypt(call.keys.renc, iv, ct)), ts: b.ts };
}

// ---- server ---------------------------------------------------------------

function strictObject(text, members, optional) {
  let o;
  try {
    o = JSON.parse(text);
  } catch {
    throw new Zy1Error('bad_envelope', 'not JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new Zy1Error('bad_envelope', 'not an object');
  const have = Object.keys(o);
  const need = members.filter((m) => !optional.includes(m));
  if (have.some((k) => !members.includes(k)) || need.some((k) => !have.includes(k)))
    throw new Zy1Error('bad_envelope', `members ${have.join(',')}`);
  return o;
}

function utf8(u8) {
  try {
    return dec.decode(u8);
  } catch {
    throw new Zy1Error('bad_payload', 'not UTF-8');
  }
}

/**
 * Opens a request as the server does (steps 2, 9, 10, 12; the stateful
 * checks are the server's, not the channel's). factor(env) gives F: DS, or
 * the activation factor of env.tlr. Returns {payload, form, keys, nonce, fields}.
 */
export function openRequest(privHex, tx, bodyText, factor) {
  const b = strictObject(bodyText, REQUEST_MEMBERS, ['tlr']);
  if (b.v !== 1 || !Number.isSafeInteger(b.ts) || b.ts <= 0)
    throw new Zy1Error('bad_envelope', 'v or ts');
  if ((tx === ACTIVATE_TX) !== ('tlr' in b)) throw new Zy1Error('bad_envelope', 'tlr');
  unb64(b.nonce, NONCE_LEN, 'nonce');
  const iv = unb64(b.iv, IV_LEN, 'iv');
  const ct = unb64(b.ct, 0, 'ct');
  const mac = unb64(b.mac, MAC_LEN, 'mac');
  const { form, S } = unwrapSecret(privHex, unb64(b.ek, 0, 'ek'));
  const keys = deriveKeys(S, factor(b));
  if (!timingSafeEqual(hmac(keys.kmac, requestMacInput(tx, b)), mac))
    throw new Zy1Error('bad_mac', 'request rejected');
  let payload;
  try {
    payload = JSON.parse(utf8(sm4Decrypt(keys.kenc, iv, ct)));
  } catch (e) {
    throw e instanceof Zy1Error ? e : new Zy1Error('bad_payload', 'payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || typeof payload.data !== 'object')
    throw new Zy1Error('bad_payload', 'payload shape');
  return { payload, form, keys, nonce: b.nonce, fields: b };
}

/** The sealed answer; iv is random unless given (spec vectors). */
export function sealResponse(keys, tx, nonce, ts, plaintext, ivFixed) {
  const iv = ivFixed ?? randomBytes(IV_LEN);
  const b = { v: 1, ts, iv: b64(iv), ct: b64(sm4Encrypt(keys.renc, iv, plaintext)) };
  b.mac = b64(hmac(keys.rmac, responseMacInput(tx, nonce, b)));
  return JSON.stringify(b);
}

// ---- server keys ----------------------------------------------------------

/** A fresh SM2 key pair: private key as hex (for sm-crypto) and SEC1 DER (for C). */
export function generateServerKey() {
  const { privateKey, publicKey } = sm2.generateKeyPairHex();
  return { privHex: privateKey, pubB64: b64(fromHex(publicKey)), derB64: b64(sec1Der(privateKey, publicKey)) };
}

/** SEC1 ECPrivateKey { 1, d, [0] sm2p256v1, [1] 04||x||y }, what sm2_key_load_der reads. */
export function sec1Der(privHex, pubHex) {
  const oid = fromHex('06082a811ccf5501822d');
  return tlv(
    0x30,
    concat(
      [0x02, 0x01, 0x01],
      tlv(0x04, fromHex(privHex.padStart(64, '0'))),
      tlv(0xa0, oid),
      tlv(0xa1, tlv(0x03, concat([0x00], fromHex(pubHex)))),
    ),
  );
}
