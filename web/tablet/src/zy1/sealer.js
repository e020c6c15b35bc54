// sealer.js — the page's side of seal.worker.js (which runs every SM
// operation). One worker for the app's life, started on first use; requests
// are matched to answers by id. If the worker dies, pending requests reject
// and the next one starts a new worker.
//   seal(p)              -> {body, handle}
//   open(handle, text)   -> the answer's plaintext object; rejects with
//                           Zy1Error(code) when it does not open
//   drop(handle)         -> forget the keys of a request that got no answer
//   activationFactor(tlr, code) -> Uint8Array(32)
//   sm3Hex(bytes)        -> SM3 of bytes as lowercase hex (off the UI thread)
//   warm()               -> start the worker ahead of the first request
import { Zy1Error } from './bytes.js';

let worker = null;
let next = 0;
const pending = new Map();

function start() {
  worker = new Worker(new URL('./seal.worker.js', import.meta.url), { type: 'module', name: 'zy1-seal' });
  worker.onmessage = ({ data }) => {
    const w = pending.get(data.id);
    if (!w) return;
    pending.delete(data.id);
    if (data.error) w.reject(data.code ? new Zy1Error(data.code, data.error) : new Error(data.error));
    else w.resolve(data);
  };
  worker.onerror = (ev) => {
    ev.preventDefault?.();
    for (const w of pending.values()) w.reject(new Error(`seal worker failed: ${ev.message || 'error'}`));
    pending.clear();
    worker?.terminate();
    worker = null;
  };
}

export function warm() {
  if (!worker) start();
}

function ask(msg) {
  if (!worker) start();
  const id = ++next;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, ...msg });
  });
}

export const seal = (p) => ask({ op: 'seal', p }).then(({ body, handle }) => ({ body, handle }));
export const open = (handle, text) => ask({ op: 'open', handle, text }).then((d) => d.value);
export const drop = (handle) => ask({ op: 'drop', handle }).catch(() => {});
export const activationFactor = (tlr, code) => ask({ op: 'actF', tlr, code }).then((d) => d.F);
export const sm3Hex = (bytes) => ask({ op: 'sm3', bytes }).then((d) => d.hex);
