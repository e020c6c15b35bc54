// outbox.js — writes that must survive a weak network. A write is stored
// with its cseq before anything is sent, sent in order, retried with the same
// cseq (the server runs it once), and kept on a final refusal so that nothing
// typed is lost.
//
// Contract for the screens (keep it when the internals change):
//   enqueue(tx, data, {label, cseq?}) -> Promise<{id, cseq}>   stored, then sent in the background
//   list()        -> [{id, tx, label, cseq, state: 'pending'|'sending'|'failed'|'done', error, created, attempts}]
//   subscribe(fn) -> unsubscribe; fn(list()) now and after every change
//   whenDone(id)  -> Promise<answer data>; rejects (ZyError) on a final refusal
//   retry(id), discard(id), flush()
// Added with the IndexedDB version:
//   init()        -> async; loads the queue (main.js awaits it) and starts sending
//   edit(id, data)-> a failed item's data replaced (a new cseq: the old one was refused), sent again
//   status()      -> {waiting: null|'offline'|'login'|'activate'|'retry', nextAt (ms, for 'retry')}
//   list() items also carry `data`, `code` (the error code) and `sentAt`.
//
// How (docs/tablet.md "Outbox and check-in"): every item lives in IndexedDB
// (store 'outbox', key = id, increasing) encrypted by the vault (it holds
// customer data); written before it is sent, deleted once the server
// answered OK. Items go one at a time in id order. Network errors, HTTP
// 429/503, busy/overloaded/unavailable/in_progress/internal and an answer that
// does not open (altered on the way: bad_answer) are retried with
// the SAME cseq after an exponential backoff with jitter (1 s doubling to
// 60 s); the server answers a duplicate from its stored answer, so a step is
// done once. session_invalid/expired: the item goes back to pending and the
// queue waits for the next login; device_blocked/not_activated/unknown_key:
// it waits for activation and login. Any other code is a final refusal: the item is
// 'failed' with its Chinese message, kept, and the queue goes on with the
// next one (retry, edit or discard it). Sending starts at init, on the
// `online` event, after every login, when a backoff ends and every 30 s.
import { call, newCseq, init as clientInit, onSession, session, device, ZyError } from './client.js';
import * as db from './db.js';
import * as vault from './vault.js';

const RETRY_CODES = new Set(['network', 'busy', 'overloaded', 'unavailable', 'in_progress', 'internal', 'replay', 'bad_answer']);
const LOGIN_CODES = new Set(['session_invalid', 'session_expired']);
const ACTIVATE_CODES = new Set(['device_blocked', 'not_activated', 'unknown_key']);
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 60000;
const TICK_MS = 30000;

let items = [];
const subs = new Set();
const waiters = new Map();
let running = false;
let again = false;
let fails = 0; // consecutive retryable failures of the head of the queue
let waiting = null;
let nextAt = 0;
let timer = null;
let ready = null;

const pub = (i) => ({ id: i.id, tx: i.tx, label: i.label, cseq: i.cseq, state: i.state, error: i.error, code: i.code, created: i.created, attempts: i.attempts, sentAt: i.sentAt, data: i.data });
export const list = () => items.map(pub);
export const status = () => ({ waiting, nextAt: waiting === 'retry' ? nextAt : 0 });

function notify() {
  const l = list();
  for (const fn of subs) {
    try {
      fn(l, status());
    } catch {
      /* a subscriber's bug is not ours */
    }
  }
}

export function subscribe(fn) {
  subs.add(fn);
  fn(list(), status());
  return () => subs.delete(fn);
}

const NAME = (id) => `outbox:${id}`;

async function persist(it) {
  const rec = { id: it.id, tx: it.tx, data: it.data, label: it.label, cseq: it.cseq, state: it.state === 'sending' ? 'pending' : it.state, error: it.error, code: it.code, created: it.created, attempts: it.attempts, sentAt: it.sentAt };
  await db.put('outbox', it.id, { id: it.id, sealed: await vault.seal(rec, NAME(it.id)) });
}

export function init() {
  if (!ready)
    ready = (async () => {
      await clientInit();
      const rows = await db.all('outbox');
      const loaded = [];
      for (const [id, row] of rows) {
        try {
          const it = await vault.unseal(row.sealed, NAME(id));
          if (it.state === 'sending') it.state = 'pending';
          loaded.push(it);
        } catch {
          /* a record that does not open (vault wiped): nothing to send */
        }
      }
      // Items enqueued before init finished stay after the stored ones.
      items = [...loaded, ...items.filter((i) => !loaded.some((l) => l.id === i.id))];
      notify();
      if (typeof window !== 'undefined') {
        window.addEventListener('online', () => {
          fails = 0;
          kick(0);
        });
        window.addEventListener('offline', () => notify());
      }
      onSession((s) => {
        if (s) {
          fails = 0;
          kick(0);
        }
      });
      setInterval(() => {
        if (!running && waiting !== 'retry') flush();
      }, TICK_MS);
      kick(0);
    })().catch((e) => {
      ready = null;
      throw e;
    });
  return ready;
}

// Ids are handed out one at a time (two enqueues at once must not share one).
let idChain = Promise.resolve(0);
function nextId() {
  idChain = idChain
    .catch(() => 0)
    .then(async () => {
      const last = (await db.get('kv', 'outbox.seq')) || 0;
      const top = items.reduce((m, i) => Math.max(m, i.id), 0);
      const id = Math.max(last, top) + 1;
      await db.put('kv', 'outbox.seq', id);
      return id;
    });
  return idChain;
}

export async function enqueue(tx, data, { label = tx, cseq = newCseq() } = {}) {
  await init();
  const item = { id: await nextId(), tx, data, label, cseq, state: 'pending', error: '', code: '', created: Date.now(), attempts: 0, sentAt: 0 };
  await persist(item); // stored before anything is sent
  items.push(item);
  notify();
  if (waiting !== 'retry') kick(0); // a backoff in progress is kept

  return { id: item.id, cseq };
}

export function whenDone(id) {
  const it = items.find((i) => i.id === id);
  if (it?.state === 'done') return Promise.resolve(it.answer);
  if (it?.state === 'failed') return Promise.reject(new ZyError(it.code || 'bad_request', {}, 200));
  return new Promise((resolve, reject) => {
    const w = waiters.get(id) || [];
    w.push({ resolve, reject });
    waiters.set(id, w);
  });
}

function settle(id, ok, v) {
  for (const w of waiters.get(id) || []) (ok ? w.resolve : w.reject)(v);
  waiters.delete(id);
}

function kick(ms) {
  clearTimeout(timer);
  timer = setTimeout(() => flush(), ms);
}

function backoff() {
  fails++;
  const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** (fails - 1));
  const delay = Math.round(base / 2 + (Math.random() * base) / 2);
  waiting = 'retry';
  nextAt = Date.now() + delay;
  kick(delay);
}

/** Sends what is pending, in order; one runner at a time. */
export async function flush() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    await init();
    do {
      again = false;
      await drain();
    } while (again && waiting === null);
  } catch (e) {
    // Storage failed under us (quota, IndexedDB closed): try again later.
    console.error('outbox', e);
    backoff();
  } finally {
    running = false;
    notify();
  }
}

async function drain() {
  waiting = null;
  for (;;) {
    const it = items.find((i) => i.state === 'pending');
    if (!it) return;
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return void (waiting = 'offline');
    if (!device().activated) return void (waiting = 'activate');
    if (!session()) return void (waiting = 'login');
    it.state = 'sending';
    it.attempts++;
    it.sentAt = Date.now();
    await persist(it);
    notify();
    let answer;
    try {
      answer = await call(it.tx, it.data, { cseq: it.cseq });
    } catch (e) {
      const code = e?.code || 'network';
      const retryable = RETRY_CODES.has(code) || e?.http === 429 || e?.http === 503;
      if (retryable || LOGIN_CODES.has(code) || ACTIVATE_CODES.has(code)) {
        it.state = 'pending';
        it.error = e?.message || '';
        it.code = code;
        await persist(it);
        if (retryable) backoff();
        else waiting = LOGIN_CODES.has(code) ? 'login' : 'activate';
        return;
      }
      it.state = 'failed';
      it.error = e?.message || String(e);
      it.code = code;
      await persist(it);
      settle(it.id, false, e);
      notify();
      continue; // the next item does not depend on this one
    }
    fails = 0;
    it.state = 'done';
    it.error = '';
    it.code = '';
    it.answer = answer;
    await db.del('outbox', it.id);
    settle(it.id, true, answer);
    notify();
  }
}

export async function retry(id) {
  const it = items.find((i) => i.id === id);
  if (it && it.state === 'failed') {
    // The old cseq got a final refusal (nothing was done): a new one runs again.
    Object.assign(it, { state: 'pending', error: '', code: '', cseq: newCseq() });
    await persist(it);
    notify();
  }
  fails = 0;
  kick(0);
}

export async function edit(id, data) {
  const it = items.find((i) => i.id === id);
  if (!it || it.state !== 'failed') return false;
  Object.assign(it, { data, state: 'pending', error: '', code: '', cseq: newCseq() });
  await persist(it);
  notify();
  kick(0);
  return true;
}

export async function discard(id) {
  const it = items.find((i) => i.id === id);
  if (!it || it.state === 'sending') return false;
  items = items.filter((i) => i.id !== id);
  await db.del('outbox', id);
  settle(id, false, new ZyError('discarded', {}, 0));
  notify();
  return true;
}
