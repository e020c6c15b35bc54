// uploads.js — the information collection's uploads (ATTACH_*, docs/api.md
// §1.22-1.28). A photo or PDF is written to IndexedDB (database
// `zhanye-uploads`, store `pending`, the bytes as an ArrayBuffer, not
// encrypted: see docs/tablet.md) the moment it is chosen, and deleted only
// once ATTACH_END has stored it. Sending is in 256 KiB chunks; every start
// (a tap on 继续上传, or resumeAll() when a screen opens after a reload or a
// dropped network) asks ATTACH_BEGIN again with the same SM3, which answers
// the chunks the server already has, and sends only the others.
//
//   add({customerId, kind, name, mime, bytes}) -> key   stored, then sent
//   start(key)        sends what the server lacks; resolves with the stored attachment or throws ZyError
//   resumeAll(customerId?) starts every pending upload (of that customer)
//   discard(key)      forgets a pending upload
//   state.items[key]  {key, customerId, name, size, sm3, chunks, sent, status: 'waiting'|'uploading'|'failed'|'stored', error, attachment}
import { reactive } from 'vue';
import { call } from '../zy1/client.js';
import { sm3Hash, hex, b64 } from '../zy1/zy1.js';

export const CHUNK = 262144;
const DB = 'zhanye-uploads';
const STORE = 'pending';

let dbp = null;
function db() {
  if (!dbp)
    dbp = new Promise((resolve, reject) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'key' });
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  return dbp;
}

async function op(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(req.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('aborted'));
  });
}
const getRec = (key) => op('readonly', (s) => s.get(key));
const allRecs = () => op('readonly', (s) => s.getAll());
const putRec = (rec) => op('readwrite', (s) => s.put(rec));
const delRec = (key) => op('readwrite', (s) => s.delete(key));

export const state = reactive({ items: {}, loaded: false });

function show(rec, patch = {}) {
  const cur = state.items[rec.key] || { sent: 0, status: 'waiting', error: '' };
  state.items[rec.key] = { ...cur, key: rec.key, customerId: rec.customerId, name: rec.name, kind: rec.kind, size: rec.size, sm3: rec.sm3, chunks: Math.ceil(rec.size / CHUNK), ...patch };
}

/** Loads the pending uploads kept from an earlier run into state. */
export async function load() {
  for (const rec of await allRecs()) if (!state.items[rec.key]) show(rec);
  state.loaded = true;
}

export async function add({ customerId, kind, name, mime, bytes }) {
  const u8 = new Uint8Array(bytes);
  const sm3 = hex(sm3Hash(u8));
  const rec = { key: `${customerId}:${sm3}`, customerId, kind, name, mime, size: u8.length, sm3, bytes: u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.length), created: Date.now() };
  await putRec(rec);
  show(rec, { status: 'waiting', sent: 0, error: '' });
  return rec.key;
}

const running = new Map();

export function start(key) {
  if (!running.has(key)) running.set(key, send(key).finally(() => running.delete(key)));
  return running.get(key);
}

async function send(key) {
  const rec = await getRec(key);
  if (!rec) throw new Error('gone');
  const bytes = new Uint8Array(rec.bytes);
  show(rec, { status: 'uploading', error: '' });
  try {
    let b = await call('ATTACH_BEGIN', { kind: rec.kind, name: rec.name, size: rec.size, sm3: rec.sm3, link: { customer_id: rec.customerId } });
    if (b.state !== 'stored') {
      const have = new Set(b.received || []);
      show(rec, { sent: have.size, chunks: b.chunks });
      for (let i = 0; i < b.chunks; i++) {
        if (have.has(i)) continue;
        const part = bytes.subarray(i * b.chunk_size, Math.min(rec.size, (i + 1) * b.chunk_size));
        const a = await call('ATTACH_CHUNK', { upload_id: b.upload_id, index: i, data: b64(part), sm3: hex(sm3Hash(part)) });
        have.add(i);
        show(rec, { sent: typeof a.received === 'number' ? a.received : Array.isArray(a.received) ? a.received.length : have.size });
      }
      b = await call('ATTACH_END', { upload_id: b.upload_id });
    }
    await delRec(key);
    show(rec, { status: 'stored', sent: b.chunks, attachment: b });
    return b;
  } catch (e) {
    show(rec, { status: 'failed', error: e.message || String(e) });
    throw e;
  }
}

export async function resumeAll(customerId) {
  await load();
  const keys = Object.values(state.items)
    .filter((i) => i.status !== 'stored' && i.status !== 'uploading' && (customerId == null || i.customerId === customerId))
    .map((i) => i.key);
  return Promise.allSettled(keys.map(start));
}

export async function discard(key) {
  await delRec(key);
  delete state.items[key];
}

/** How many uploads wait (not yet stored). */
export const pendingCount = () => Object.values(state.items).filter((i) => i.status !== 'stored').length;
