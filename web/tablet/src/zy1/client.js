// client.js — the tablet's ZY1 client: the device identity, the pinned server
// key, the session, and one call() that seals, sends and opens.
//
// Contract for the screens (keep it when the internals change):
//   device()                      -> {dev, teller, bank, activated} (never the secret)
//   activate({teller, code})      -> {teller, bank}; throws ZyError
//   login({teller, password})     -> {sid, teller:{code,name,role,bank,branch}}; throws ZyError
//   logout()                      -> ends the session (best effort)
//   session()                     -> {teller:{…}} | null
//   call(tx, data, {cseq})        -> answer data on code OK; throws ZyError otherwise
//   newCseq()                     -> a fresh client serial, [A-Za-z0-9_-]{1,64}
// ZyError: {code, message (plain Chinese, what to do next), data, http}.
import { sealRequest, openResponse, activationFactor, canonicalCode, b64, unb64, randomBytes, hex, ACTIVATE_TX, Zy1Error } from './zy1.js';
import { explain } from './errors.js';

const API = '/api/v1';
const KEY = 'zhanye.device';
const SESSION_KEY = 'zhanye.session';

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

function load(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}
const save = (key, v) => (v == null ? localStorage.removeItem(key) : localStorage.setItem(key, JSON.stringify(v)));

function state() {
  let s = load(KEY);
  if (!s || !/^[0-9a-f]{32}$/.test(s.dev || '')) {
    s = { dev: hex(randomBytes(16)) };
    save(KEY, s);
  }
  return s;
}

export function device() {
  const s = state();
  return { dev: s.dev, teller: s.teller || null, bank: s.bank || null, activated: !!s.ds };
}

export const session = () => load(SESSION_KEY);

export function newCseq() {
  return `t${Date.now().toString(36)}-${hex(randomBytes(8))}`;
}

async function serverKey() {
  const r = await fetch(`${API}/pubkey`, { cache: 'no-store' });
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
    const { body, call } = sealRequest({ pubB64: key.pub, kid: key.kid, dev: state().dev, tx, tlr, F, ts: now(), payload: JSON.stringify(payloadObj) });
    let r;
    try {
      r = await fetch(`${API}/tx/${tx}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, cache: 'no-store' });
    } catch {
      throw new ZyError('network', {}, 0);
    }
    const text = await r.text();
    if (r.status !== 200) {
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
      throw new ZyError(err.code || `http_${r.status}`, err, r.status, err.message);
    }
    try {
      return openResponse(call, text);
    } catch (e) {
      throw new ZyError(e instanceof Zy1Error ? e.code : 'bad_envelope', {}, 200);
    }
  }
}

export async function activate({ teller, code }) {
  const canon = canonicalCode(code);
  if (!canon) throw new ZyError('bad_code');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(teller || '')) throw new ZyError('bad_teller');
  await syncClock();
  const key = await serverKey();
  const ans = await roundTrip(ACTIVATE_TX, { data: { device: { model: navigator.platform.slice(0, 64) || 'web', os: 'web', app: 'zhanye-tablet' } } }, { key, F: activationFactor(teller, canon), tlr: teller });
  if (ans.code !== 'OK') throw new ZyError(ans.code, ans.data, 200, ans.message);
  const s = state();
  Object.assign(s, { ds: ans.data.device_secret, teller: ans.data.teller, bank: ans.data.bank, kid: key.kid, pub: key.pub });
  save(KEY, s);
  save(SESSION_KEY, null);
  return { teller: s.teller, bank: s.bank };
}

function pinned() {
  const s = state();
  if (!s.ds) throw new ZyError('not_activated');
  return { key: { kid: s.kid, pub: s.pub }, F: unb64(s.ds, 32, 'device_secret') };
}

async function sealedCall(tx, data, { cseq, sid } = {}) {
  const payload = { data: data || {} };
  if (sid) payload.sid = sid;
  if (cseq) payload.cseq = cseq;
  const ans = await roundTrip(tx, payload, pinned());
  if (ans.code !== 'OK') {
    if (ans.code === 'session_invalid' || ans.code === 'session_expired') save(SESSION_KEY, null);
    throw new ZyError(ans.code, ans.data, 200, ans.message);
  }
  return ans.data;
}

export async function login({ teller, password }) {
  await syncClock();
  const data = await sealedCall('LOGIN', { teller, password }, { cseq: newCseq() });
  save(SESSION_KEY, { sid: data.sid, teller: data.teller, idle_timeout_s: data.idle_timeout_s });
  return data;
}

export async function logout() {
  const s = session();
  save(SESSION_KEY, null);
  if (s) await sealedCall('LOGOUT', {}, { sid: s.sid }).catch(() => {});
}

/** A business transaction under the session. */
export function call(tx, data, opts = {}) {
  const s = session();
  if (!s) return Promise.reject(new ZyError('session_invalid', { reason: 'no_session' }));
  return sealedCall(tx, data, { ...opts, sid: s.sid });
}

export { b64 };
