// client.js — the tablet's ZY1 client: the device identity, the pinned server
// key, the session, and one call() that seals, sends and opens.
//
// Contract for the screens (keep it when the internals change):
//   init()                        -> async; loads the state below from IndexedDB
//                                    (main.js awaits it before mounting)
//   device()                      -> {dev, teller, bank, activated} (never the secret)
//   activate({teller, code})      -> {teller, bank}; throws ZyError
//   login({teller, password})     -> {sid, teller:{code,name,role,bank,branch}}; throws ZyError
//   logout()                      -> ends the session (best effort)
//   session()                     -> {teller:{…}} | null
//   call(tx, data, {cseq})        -> answer data on code OK; throws ZyError otherwise
//   newCseq()                     -> a fresh client serial, [A-Za-z0-9_-]{1,64}
//   onSession(fn)                 -> unsubscribe; fn(session()) after every login/logout/loss
// ZyError: {code, message (plain Chinese, what to do next), data, http}.
// code 'bad_answer' (HTTP 200): the server's answer did not open (its MAC,
// envelope or padding is wrong: altered on the way); data.reason is the
// channel code. Nothing in it is believed; the same cseq may be sent again.
// Every SM operation runs in a Web Worker (sealer.js, seal.worker.js).
//
// Where things live (docs/tablet.md "ZY1 in the browser"):
//   IndexedDB kv 'device'        {dev, teller, bank, kid, pub}: the device id (made
//                                once) and the server key pinned at activation
//   vault 'device.ds'            the device secret, AES-GCM under the vault's
//                                non-extractable key (vault.js)
//   vault 'session'              {sid, teller, idle_timeout_s}, likewise
// Nothing is kept in localStorage/sessionStorage. The server key is never
// fetched again after activation: `unknown_key` means activate again.
// device_blocked and session_invalid for device_revoked/device_unbound wipe
// the device secret and the session (the device must be activated again).
import { canonicalCode, b64, unb64, randomBytes, hex, ACTIVATE_TX, Zy1Error } from './bytes.js';
import { seal, open, drop, activationFactor, warm } from './sealer.js';
import { explain } from './errors.js';
import * as db from './db.js';
import * as vault from './vault.js';

const API = '/api/v1';

export class ZyError extends Error {
  constructor(code, data = {}, http = 200, detail = '') {
    super(explain(code, data, detail));
    this.code = code;
    this.data = data;
    this.http = http;
  }
}

let skewMs = 0;
const now = () => Date.now() + skewMs;

// In-memory copies of the stored state (init() loads them).
let dev = null; // {dev, teller, bank, kid, pub}
let ds = null; // Uint8Array(32) | null
let sess = null; // {sid, teller, idle_timeout_s} | null
let ready = null;
const sessionSubs = new Set();

// device_reactivated is not here: this device holds the new secret already.
const UNBIND_REASONS = new Set(['device_revoked', 'device_unbound']);

export function init() {
  if (!ready)
    ready = (async () => {
      dev = await db.get('kv', 'device');
      if (!dev || !/^[0-9a-f]{32}$/.test(dev.dev || '')) {
        dev = { dev: hex(randomBytes(16)) };
        await db.put('kv', 'device', dev);
      }
      try {
        const s = await vault.get('device.ds');
        ds = s ? unb64(s, 32, 'device_secret') : null;
        sess = ds ? (await vault.get('session')) || null : null;
      } catch {
        // The vault does not open (its key was wiped): as not activated.
        ds = null;
        sess = null;
      }
      if (ds) warm();
    })().catch((e) => {
      ready = null;
      console.error('IndexedDB', e);
      throw new ZyError('storage');
    });
  return ready;
}

function need() {
  if (!dev) throw new ZyError('storage');
  return dev;
}

export function device() {
  // Before init() succeeded (storage unavailable): not activated, so the
  // router shows the activation screen, which reports the storage error.
  const s = dev || {};
  return { dev: s.dev || null, teller: s.teller || null, bank: s.bank || null, activated: !!ds };
}

export const session = () => (sess ? { sid: sess.sid, teller: sess.teller, idle_timeout_s: sess.idle_timeout_s } : null);

const noncompliantSubs = new Set();
/** fn(data) on every device_noncompliant answer (device management, mdm/agent.js). */
export function onNoncompliant(fn) {
  noncompliantSubs.add(fn);
  return () => noncompliantSubs.delete(fn);
}

export function onSession(fn) {
  sessionSubs.add(fn);
  return () => sessionSubs.delete(fn);
}

async function setSession(s) {
  sess = s;
  if (s) await vault.put('session', s);
  else await vault.delete('session').catch(() => {});
  for (const fn of sessionSubs) {
    try {
      fn(session());
    } catch {
      /* a subscriber's bug is not ours */
    }
  }
}

/** The device must be activated again: secret and session gone. */
async function forgetSecret() {
  ds?.fill(0);
  ds = null;
  await vault.delete('device.ds').catch(() => {});
  await setSession(null);
}

export function newCseq() {
  return `t${Date.now().toString(36)}-${hex(randomBytes(8))}`;
}

async function serverKey() {
  let r;
  try {
    r = await fetch(`${API}/pubkey`, { cache: 'no-store' });
  } catch {
    throw new ZyError('network', {}, 0);
  }
  if (!r.ok) throw new ZyError('network', {}, r.status);
  const { keys } = await r.json();
  if (!keys || !keys.length) throw new ZyError('unknown_key');
  return keys[0];
}

async function syncClock() {
  try {
    const r = await fetch(`${API}/time`, { cache: 'no-store' });
    const { ts } = await r.json();
    if (Number.isSafeInteger(ts)) skewMs = ts - Date.now();
  } catch {
    /* offline: keep the last skew */
  }
}

/** One round trip. Reseals once on `stale` (clock skew, or an envelope older than the server). */
async function roundTrip(tx, payloadObj, { key, F, tlr }) {
  for (let attempt = 0; ; attempt++) {
    let sealed;
    try {
      sealed = await seal({ pubB64: key.pub, kid: key.kid, dev: need().dev, tx, tlr, F: F.slice(), ts: now(), payload: JSON.stringify(payloadObj) });
    } catch (e) {
      if (e instanceof ZyError) throw e;
      console.error('seal', e);
      throw new ZyError('client_error');
    }
    const { body, handle } = sealed;
    let r;
    let text;
    try {
      r = await fetch(`${API}/tx/${tx}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, cache: 'no-store' });
      text = await r.text();
    } catch {
      drop(handle);
      throw new ZyError('network', {}, 0);
    }
    if (r.status !== 200) {
      drop(handle);
      let err = {};
      try {
        err = JSON.parse(text).error || {};
      } catch {
        /* not JSON */
      }
      if (err.code === 'stale' && attempt === 0) {
        if (Number.isSafeInteger(err.server_ts)) skewMs = err.server_ts - Date.now();
        else await syncClock();
        continue;
      }
      if (err.code === 'device_blocked' && tx !== ACTIVATE_TX) await forgetSecret();
      throw new ZyError(err.code || `http_${r.status}`, err, r.status, err.message);
    }
    try {
      return await open(handle, text);
    } catch (e) {
      // The answer does not open (altered or damaged on the way): its content
      // is not believed. Resending the same cseq gets the server's stored answer.
      throw new ZyError('bad_answer', { reason: e instanceof Zy1Error ? e.code : 'bad_envelope' }, 200);
    }
  }
}

export async function activate({ teller, code }) {
  await init();
  const canon = canonicalCode(code);
  if (!canon) throw new ZyError('bad_code');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(teller || '')) throw new ZyError('bad_teller');
  await syncClock();
  // The one time the key is fetched: pinned from here on.
  const key = await serverKey();
  const ans = await roundTrip(ACTIVATE_TX, { data: { device: { model: navigator.platform.slice(0, 64) || 'web', os: 'web', app: 'zhanye-tablet' } } }, { key, F: await activationFactor(teller, canon), tlr: teller });
  if (ans.code !== 'OK') throw new ZyError(ans.code, ans.data, 200, ans.message);
  const secret = unb64(ans.data.device_secret, 32, 'device_secret');
  await vault.put('device.ds', ans.data.device_secret);
  ans.data.device_secret = '';
  dev = { dev: need().dev, teller: ans.data.teller, bank: ans.data.bank, kid: key.kid, pub: key.pub };
  await db.put('kv', 'device', dev);
  ds?.fill(0);
  ds = secret;
  await setSession(null);
  return { teller: dev.teller, bank: dev.bank };
}

function pinned() {
  const s = need();
  if (!ds) throw new ZyError('not_activated');
  return { key: { kid: s.kid, pub: s.pub }, F: ds };
}

async function sealedCall(tx, data, { cseq, sid } = {}) {
  await init();
  const payload = { data: data || {} };
  if (sid) payload.sid = sid;
  if (cseq) payload.cseq = cseq;
  const ans = await roundTrip(tx, payload, pinned());
  if (ans.code !== 'OK') {
    if (ans.code === 'session_invalid' || ans.code === 'session_expired') {
      if (UNBIND_REASONS.has(ans.data?.reason)) await forgetSecret();
      else if (!sid || sess?.sid === sid) await setSession(null);
    }
    if (ans.code === 'device_noncompliant') for (const fn of noncompliantSubs) fn(ans.data);
    throw new ZyError(ans.code, ans.data, 200, ans.message);
  }
  return ans.data;
}

export async function login({ teller, password }) {
  await syncClock();
  const data = await sealedCall('LOGIN', { teller, password }, { cseq: newCseq() });
  await setSession({ sid: data.sid, teller: data.teller, idle_timeout_s: data.idle_timeout_s });
  return data;
}

export async function logout() {
  const s = sess;
  await setSession(null);
  if (s) await sealedCall('LOGOUT', {}, { sid: s.sid }).catch(() => {});
}

/** A business transaction under the session. */
export function call(tx, data, opts = {}) {
  const s = sess;
  if (!s) return Promise.reject(new ZyError('session_invalid', { reason: 'no_session' }));
  return sealedCall(tx, data, { ...opts, sid: s.sid });
}

export { b64 };
