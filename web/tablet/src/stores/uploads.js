// uploads.js — the information collection's uploads (ATTACH_*, docs/api.md
// §1.22-1.28). A photo or PDF is written to the encrypted vault
// (zy1/vault.js) the moment it is chosen, and deleted only once ATTACH_END
// has stored it; its SM3 is computed in the sealing worker. Sending is in 256 KiB chunks; every start
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
import { b64 } from '../zy1/bytes.js';
import { sm3Hex } from '../zy1/sealer.js';
import * as vault from '../zy1/vault.js';

export const CHUNK = 262144;
// A pending upload is two vault records: `upload.meta.<key>` (JSON) and
// `upload.bytes.<key>` (the file), both encrypted at rest (zy1/vault.js).
const META = 'upload.meta.';
const BYTES = 'upload.bytes.';

const getRec = (key) => vault.get(META + key);
async function allRecs() {
  const names = await vault.keys(META);
  return (await Promise.all(names.map((n) => vault.get(n)))).filter(Boolean);
}
async function putRec(rec, bytes) {
  await vault.put(BYTES + rec.key, bytes);
  await vault.put(META + rec.key, rec);
}
async function delRec(key) {
  await vault.delete(META + key);
  await vault.delete(BYTES + key);
}

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
  const sm3 = await sm3Hex(u8);
  const rec = { key: `${customerId}:${sm3}`, customerId, kind, name, mime, size: u8.length, sm3, created: Date.now() };
  await putRec(rec, u8);
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
  const bytes = await vault.get(BYTES + key);
  if (!bytes) throw new Error('gone');
  show(rec, { status: 'uploading', error: '' });
  try {
    let b = await call('ATTACH_BEGIN', { kind: rec.kind, name: rec.name, size: rec.size, sm3: rec.sm3, link: { customer_id: rec.customerId } });
    if (b.state !== 'stored') {
      const have = new Set(b.received || []);
      show(rec, { sent: have.size, chunks: b.chunks });
      for (let i = 0; i < b.chunks; i++) {
        if (have.has(i)) continue;
        const part = bytes.subarray(i * b.chunk_size, Math.min(rec.size, (i + 1) * b.chunk_size));
        const a = await call('ATTACH_CHUNK', { upload_id: b.upload_id, index: i, data: b64(part), sm3: await sm3Hex(part) });
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
