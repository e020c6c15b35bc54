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
//
// This first version keeps the queue in memory; the IndexedDB one replaces it.
import { call, newCseq } from './client.js';

let items = [];
let seq = 0;
const subs = new Set();
const waiters = new Map();
let running = false;

const notify = () => subs.forEach((fn) => fn(list()));

export const list = () => items.map((i) => ({ ...i }));

export function subscribe(fn) {
  subs.add(fn);
  fn(list());
  return () => subs.delete(fn);
}

export async function enqueue(tx, data, { label = tx, cseq = newCseq() } = {}) {
  const item = { id: ++seq, tx, data, label, cseq, state: 'pending', error: '', created: Date.now(), attempts: 0 };
  items.push(item);
  notify();
  flush();
  return { id: item.id, cseq };
}

export function whenDone(id) {
  const it = items.find((i) => i.id === id);
  if (it?.state === 'done') return Promise.resolve(it.answer);
  return new Promise((resolve, reject) => waiters.set(id, { resolve, reject }));
}

export async function flush() {
  if (running) return;
  running = true;
  try {
    for (const it of items.filter((i) => i.state === 'pending')) {
      it.state = 'sending';
      it.attempts++;
      notify();
      try {
        it.answer = await call(it.tx, it.data, { cseq: it.cseq });
        it.state = 'done';
        waiters.get(it.id)?.resolve(it.answer);
      } catch (e) {
        it.state = 'failed';
        it.error = e.message;
        waiters.get(it.id)?.reject(e);
        break;
      }
      notify();
    }
  } finally {
    running = false;
    notify();
  }
}

export function retry(id) {
  const it = items.find((i) => i.id === id);
  if (it && it.state === 'failed') it.state = 'pending';
  flush();
}

export function discard(id) {
  items = items.filter((i) => i.id !== id);
  notify();
}
