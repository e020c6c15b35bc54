// vault.js — data encrypted at rest under a non-extractable WebCrypto key.
//
// The key: AES-GCM-256, generated once by crypto.subtle.generateKey with
// extractable = false and kept (as the CryptoKey object) in IndexedDB
// (kv 'vault.key'): script can use it but never read its bytes. Every record
// is {iv (12 random bytes), ct} with the record's name as additional data, so
// a record copied under another name does not open.
//
// Contract (issue 14 for the device secret, the session and the outbox;
// issue 16 for cached business data and images):
//   put(name, value)   value: anything structured-cloneable to JSON, or a
//                      Uint8Array / Blob (images) -> stored encrypted
//   get(name)          -> the value, or undefined if absent; throws if the
//                      record does not open (tampered, or the key is gone)
//   delete(name)
//   keys(prefix = '') -> names in order
//   wipeAll()          -> every vault record AND the outbox cleared, the key
//                         dropped (a new one is made on next use): what was
//                         encrypted can no longer be read, the device secret
//                         included (the device must be activated again)
//   seal(value, name) / unseal(rec, name): the same encryption for records kept
//                      in another store (the outbox)
import * as db from './db.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
let keyp = null;

function key() {
  if (!keyp)
    keyp = (async () => {
      let k = await db.get('kv', 'vault.key');
      if (!k) {
        k = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
        await db.put('kv', 'vault.key', k);
      }
      return k;
    })().catch((e) => {
      keyp = null;
      throw e;
    });
  return keyp;
}

/** The key itself (tests check it is not extractable). */
export const cryptoKey = key;

async function encode(value) {
  if (value instanceof Blob) return { kind: 'blob', type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) };
  if (value instanceof Uint8Array) return { kind: 'bytes', bytes: value };
  return { kind: 'json', bytes: enc.encode(JSON.stringify(value)) };
}

export async function seal(value, name) {
  const { kind, type, bytes } = await encode(value);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(`zy-vault|${name}`) }, await key(), bytes));
  return type ? { kind, type, iv, ct } : { kind, iv, ct };
}

export async function unseal(rec, name) {
  const pt = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: rec.iv, additionalData: enc.encode(`zy-vault|${name}`) }, await key(), rec.ct));
  if (rec.kind === 'bytes') return pt;
  if (rec.kind === 'blob') return new Blob([pt], { type: rec.type });
  const v = JSON.parse(dec.decode(pt));
  pt.fill(0);
  return v;
}

export async function put(name, value) {
  await db.put('vault', name, await seal(value, name));
}

export async function get(name) {
  const rec = await db.get('vault', name);
  return rec === undefined ? undefined : unseal(rec, name);
}

export const remove = (name) => db.del('vault', name);
export { remove as delete };

export async function keys(prefix = '') {
  return (await db.all('vault')).map(([k]) => k).filter((k) => typeof k === 'string' && k.startsWith(prefix));
}

export async function wipeAll() {
  await db.clear('vault');
  await db.clear('outbox');
  await db.del('kv', 'vault.key');
  keyp = null;
}
