// seal.worker.js — every SM2/SM3/SM4 operation of the tablet, off the UI
// thread (SM2 costs milliseconds to tens of milliseconds on a tablet:
// docs/tablet.md "ZY1 in the browser"). The per-request keys stay here: the
// page gets a handle to open the answer with.
//
// Messages in -> out (each carries the caller's `id`):
//   {op:'seal', p}            -> {body, handle}   p as sealRequest takes (F: the device secret or activation factor)
//   {op:'open', handle, text} -> {value}          the answer's plaintext object; the handle is used up
//   {op:'drop', handle}       -> {}               forget a handle (the request failed before an answer)
//   {op:'actF', tlr, code}    -> {F}              the activation factor (Uint8Array)
//   {op:'sm3', bytes}         -> {hex}            SM3 of bytes, lowercase hex (uploads: a photo is megabytes)
//   any failure               -> {error, code}    code: bad_envelope | bad_mac | bad_payload | undefined
import { sealRequest } from './seal.js';
import { openResponse, activationFactor, sm3Hash, Zy1Error } from './zy1.js';
import { hex } from './bytes.js';

const calls = new Map();
let nextHandle = 0;

function wipe(call) {
  if (call) for (const k of Object.values(call.keys)) k.fill(0);
}

function handle(m) {
  switch (m.op) {
    case 'seal': {
      try {
        const { body, call } = sealRequest(m.p);
        const h = ++nextHandle;
        calls.set(h, call);
        return { body, handle: h };
      } finally {
        m.p.F?.fill?.(0);
      }
    }
    case 'open': {
      const call = calls.get(m.handle);
      calls.delete(m.handle);
      if (!call) throw new Error('unknown handle');
      try {
        return { value: openResponse(call, m.text) };
      } finally {
        wipe(call);
      }
    }
    case 'drop':
      wipe(calls.get(m.handle));
      calls.delete(m.handle);
      return {};
    case 'actF':
      return { F: activationFactor(m.tlr, m.code) };
    case 'sm3':
      return { hex: hex(sm3Hash(m.bytes)) };
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

self.onmessage = ({ data }) => {
  let out;
  try {
    out = handle(data);
  } catch (e) {
    out = { error: String(e?.message || e), code: e instanceof Zy1Error ? e.code : undefined };
  }
  self.postMessage({ id: data.id, ...out });
};
