// sw.js — the tablet app's service worker: every file of the app is kept on
// the device and downloaded once (docs/architecture.md "Web apps").
//
// The build writes /manifest.json ({version, files: {"/path": "<hash>"}},
// web/build/resources.js). Files are cached under "/path?v=<hash>", so two
// versions share every file they have in common, and the server answers such
// a URL as immutable (docs/api.md "Web apps").
//
//   - Install: the files of the current manifest are cached (a file the page
//     has just loaded is taken from the HTTP cache when its ETag is the hash,
//     so the first visit downloads each file once); that manifest is active,
//     and the first page is claimed (what it loads later comes from the cache).
//   - A start of the app (a navigation to /) is answered from the cache with
//     the active version's index.html; a staged version, complete, becomes
//     active first. Then /manifest.json is fetched (no-store): when its
//     version is new, only the files whose hash is not cached are fetched,
//     and the manifest is staged. It becomes active at the NEXT start: a page
//     keeps the version it started with (its later chunks come from that
//     version), so a business in progress is never broken by an update.
//   - Every other file of the manifest: cache first, from the version of the
//     page that asks. Anything else (the API above all) is never cached.
// Without a network the app starts from the cache.
//
// SIGNED MANIFEST. The server signs each manifest.json it serves (docs/api.md
// "Web apps": X-Manifest-Signature, SM2 over the SM3 of the bytes). Before a
// manifest is used — cached, staged or made active — its signature must
// verify under the server key the tablet pinned at activation (IndexedDB
// "zhanye", kv 'device'.pub, written by src/zy1/client.js; before activation,
// the key GET /api/v1/pubkey names, the same source activation pins). An
// unsigned or altered manifest is refused: nothing of it is downloaded and the
// current version stays. This worker is an ES module (built by Vite from
// src/sw.js, registered with type 'module'), so it imports sm-crypto-v2 as the
// sealing worker does; the page's own bundle has no SM code.
import { sm2, sm3 } from 'sm-crypto-v2';

const FILES = 'zy-files-1';
const META = 'zy-meta-1';
const ORIGIN = self.location.origin;

/** clientId -> the manifest its page started with; also kept in META (the browser stops an idle worker). */
const versionOf = new Map();
let checking = null;

const key = (path, hash) => `${path}?v=${hash}`;

async function getMeta(name) {
  const r = await (await caches.open(META)).match(`/__zy/${name}`);
  return r ? r.json() : null;
}

async function putMeta(name, m) {
  const c = await caches.open(META);
  if (m) await c.put(`/__zy/${name}`, new Response(JSON.stringify(m), { headers: { 'Content-Type': 'application/json' } }));
  else await c.delete(`/__zy/${name}`);
}

/** A response whose ETag is the file's hash, else null. */
function ifHash(r, hash) {
  return r && r.ok && r.status === 200 && r.headers.get('ETag') === `"${hash}"` ? r : null;
}

/** Caches one file of a manifest; true when it is (or was) in the cache. */
async function fetchInto(cache, path, hash, fromHttpCache) {
  const k = key(path, hash);
  if (await cache.match(k)) return true;
  let r = null;
  // The page loaded index.html as "/".
  const loaded = path === '/index.html' ? '/' : path;
  if (fromHttpCache) r = ifHash(await fetch(loaded, { cache: 'force-cache' }).catch(() => null), hash);
  if (!r) r = ifHash(await fetch(k).catch(() => null), hash);
  if (!r) return false;
  await cache.put(k, r);
  return true;
}

const b64ToHex = (b64) => Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
const hexToBytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (h) => parseInt(h, 16));

/** The server key pinned at activation, or null (not activated, no database). Never creates the database. */
function pinnedKey() {
  return new Promise((resolve) => {
    let r;
    try {
      r = indexedDB.open('zhanye');
    } catch {
      resolve(null);
      return;
    }
    r.onupgradeneeded = () => r.transaction.abort(); // no database yet: the page makes it
    r.onerror = () => resolve(null);
    r.onblocked = () => resolve(null);
    r.onsuccess = () => {
      const db = r.result;
      db.onversionchange = () => db.close();
      try {
        const g = db.transaction('kv', 'readonly').objectStore('kv').get('device');
        g.onsuccess = () => resolve((g.result && g.result.pub) || null);
        g.onerror = () => resolve(null);
      } catch {
        resolve(null);
      } finally {
        db.close();
      }
    };
  });
}

/** The key a manifest must be signed with: the pinned one, else (before activation) the server's published one. */
async function serverKey() {
  const pinned = await pinnedKey();
  if (pinned) return pinned;
  const r = await fetch('/api/v1/pubkey', { cache: 'no-store' }).catch(() => null);
  const j = r && r.ok ? await r.json().catch(() => null) : null;
  return (j && j.keys && j.keys[0] && j.keys[0].pub) || null;
}

/** True when sigB64 is the server's SM2 signature of SM3(bytes) under pubB64 (base64 of 04||x||y). */
function signedBy(bytes, sigB64, pubB64) {
  try {
    if (!sigB64 || !pubB64) return false;
    return sm2.doVerifySignature(hexToBytes(sm3(bytes)), b64ToHex(sigB64), b64ToHex(pubB64), { der: true, hash: true });
  } catch {
    return false;
  }
}

/** The manifest at /manifest.json when its signature verifies; null otherwise (unsigned, altered, unreachable). */
async function signedManifest() {
  const r = await fetch('/manifest.json', { cache: 'no-store' }).catch(() => null);
  if (!r || !r.ok) return null;
  const sig = r.headers.get('X-Manifest-Signature');
  const bytes = new Uint8Array(await r.arrayBuffer().catch(() => new ArrayBuffer(0)));
  if (!signedBy(bytes, sig, await serverKey())) {
    console.warn('zhanye: the app manifest is unsigned or its signature does not verify; the current version stays');
    return null;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** Fetches /manifest.json and caches the files of a new version; stages it (or makes it active if none is). */
async function check(first) {
  const m = await signedManifest();
  if (!m || !m.version || !m.files) return;
  const active = await getMeta('active');
  const staged = await getMeta('staged');
  if (active && active.version === m.version) {
    if (staged) await putMeta('staged', null);
    return;
  }
  if (staged && staged.version === m.version) return;
  const cache = await caches.open(FILES);
  const got = await Promise.all(Object.entries(m.files).map(([p, h]) => fetchInto(cache, p, h, first)));
  if (got.includes(false)) return; // retried at the next start
  await putMeta(active ? 'staged' : 'active', m);
}

function checkOnce(first = false) {
  if (!checking) checking = check(first).finally(() => (checking = null));
  return checking;
}

/** Drops cached files that no kept manifest (active, previous, staged, a live page's) lists. */
async function collect() {
  const keep = new Set();
  const names = ['active', 'previous', 'staged'];
  for (const req of await (await caches.open(META)).keys()) {
    const p = new URL(req.url).pathname;
    if (p.startsWith('/__zy/client/')) names.push(p.slice('/__zy/'.length));
  }
  for (const name of names) {
    const m = await getMeta(name);
    if (m) for (const [p, h] of Object.entries(m.files)) keep.add(ORIGIN + key(p, h));
  }
  const cache = await caches.open(FILES);
  for (const req of await cache.keys()) if (!keep.has(req.url)) await cache.delete(req);
}

/** At a start: the staged version, if any, becomes active. */
async function promote() {
  const staged = await getMeta('staged');
  if (!staged) return false;
  await putMeta('previous', await getMeta('active'));
  await putMeta('active', staged);
  await putMeta('staged', null);
  return true;
}

async function fromCache(m, path) {
  const hash = m && m.files[path];
  if (!hash) return fetch(path);
  const cache = await caches.open(FILES);
  const hit = await cache.match(key(path, hash));
  if (hit) return hit;
  const r = await fetch(key(path, hash)).catch(() => null);
  if (ifHash(r, hash)) {
    await cache.put(key(path, hash), r.clone());
    return r;
  }
  return r || fetch(path);
}

/** The manifest a page started with (the active one for a page the worker did not start). */
async function versionOfClient(id) {
  if (!versionOf.has(id)) versionOf.set(id, (id && (await getMeta(`client/${id}`))) || (await getMeta('active')));
  return versionOf.get(id);
}

/** Forgets the pages that are gone. */
async function forgetClients() {
  const live = new Set((await self.clients.matchAll({ includeUncontrolled: true })).map((c) => c.id));
  const c = await caches.open(META);
  for (const req of await c.keys()) {
    const id = new URL(req.url).pathname.replace('/__zy/client/', '');
    if (id !== new URL(req.url).pathname && !live.has(id)) await c.delete(req);
  }
  for (const id of versionOf.keys()) if (!live.has(id)) versionOf.delete(id);
}

async function start(event) {
  const promoted = await promote();
  const m = await getMeta('active');
  if (event.resultingClientId && m) {
    versionOf.set(event.resultingClientId, m);
    await putMeta(`client/${event.resultingClientId}`, m);
  }
  event.waitUntil(
    (async () => {
      await forgetClients();
      if (promoted) await collect();
      await checkOnce();
    })(),
  );
  if (!m) return fetch(event.request);
  return fromCache(m, '/index.html').catch(() => fetch(event.request));
}

async function file(event, path) {
  const m = await versionOfClient(event.clientId);
  if (!m || !m.files[path]) return fetch(event.request);
  return fromCache(m, path);
}

self.addEventListener('install', (event) => {
  event.waitUntil(checkOnce(true));
});

// The first page, loaded from the network, is served from the cache from now
// on (what it still loads: the favicon, a route's chunk); the version is the
// same, the one just cached.
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== ORIGIN || url.pathname.startsWith('/api/') || url.pathname === '/manifest.json' || url.pathname === '/sw.js') return;
  if (req.mode === 'navigate') {
    if (url.pathname === '/' || url.pathname === '/index.html') event.respondWith(start(event));
    return;
  }
  if (url.search) return; // "?v=" requests are the worker's own
  event.respondWith(file(event, url.pathname));
});
