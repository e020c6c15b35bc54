// db.js — a tiny promise wrapper over the app's IndexedDB database "zhanye".
//
// Stores (all out-of-line keys, values structured-cloned):
//   kv      — small non-secret records and CryptoKey objects: 'device'
//             ({dev, teller, bank, kid, pub}), 'vault.key' (the vault's
//             non-extractable AES-GCM key)
//   vault   — encrypted records of vault.js ({iv, ct}, never plaintext)
//   outbox  — the outbox's items, keyed by their id (integers, in order);
//             each value is {id, sealed: {iv, ct}} (the item encrypted by the vault)
//
//   get(store, key) -> value | undefined     put(store, key, value)
//   del(store, key)   all(store) -> [[key, value], …] in key order
//   clear(store)      close() (tests, wipe)
// Every function rejects with the IndexedDB error (QuotaExceededError, …).
const NAME = 'zhanye';
const VERSION = 1;
export const STORES = ['kv', 'vault', 'outbox'];

let dbp = null;

function open() {
  if (dbp) return dbp;
  dbp = new Promise((resolve, reject) => {
    const r = indexedDB.open(NAME, VERSION);
    r.onupgradeneeded = () => {
      for (const s of STORES) if (!r.result.objectStoreNames.contains(s)) r.result.createObjectStore(s);
    };
    r.onsuccess = () => {
      r.result.onversionchange = () => {
        r.result.close();
        dbp = null;
      };
      resolve(r.result);
    };
    r.onerror = () => {
      dbp = null;
      reject(r.error);
    };
    r.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  return dbp;
}

const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

async function run(store, mode, fn) {
  const db = await open();
  const tx = db.transaction(store, mode);
  const result = fn(tx.objectStore(store));
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  });
  return result instanceof IDBRequest ? result.result : result;
}

export const get = (store, key) => run(store, 'readonly', (s) => s.get(key));
export const put = (store, key, value) => run(store, 'readwrite', (s) => void s.put(value, key));
export const del = (store, key) => run(store, 'readwrite', (s) => void s.delete(key));
export const clear = (store) => run(store, 'readwrite', (s) => void s.clear());

export async function all(store) {
  const db = await open();
  const s = db.transaction(store, 'readonly').objectStore(store);
  const [keys, values] = await Promise.all([done(s.getAllKeys()), done(s.getAll())]);
  return keys.map((k, i) => [k, values[i]]);
}

export async function close() {
  if (!dbp) return;
  const db = await dbp.catch(() => null);
  db?.close();
  dbp = null;
}
