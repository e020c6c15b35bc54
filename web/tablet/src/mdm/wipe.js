// wipe.js — what device management deletes on the tablet (docs/tablet.md,
// Device management):
//   wipeBusiness()  the cached business data: every vault record but the
//                   device secret and the session (drafts, pending uploads,
//                   cached records) and the outbox; the device stays
//                   activated and logged in (the offline limit);
//   wipeDevice(forget) everything: vault.wipeAll() (its key too, so the
//                   device secret cannot be read any more) and, with forget,
//                   the device id as well (unbind: a new device next time).
// Both leave in-memory copies behind (the outbox's list, the client's
// secret): the caller restarts the app (restart()).
import * as db from '../zy1/db.js';
import * as vault from '../zy1/vault.js';

const KEEP = new Set(['device.ds', 'session']);

export async function wipeBusiness() {
  for (const name of await vault.keys('')) if (!KEEP.has(name)) await vault.delete(name);
  await db.clear('outbox');
}

export async function wipeDevice(forget) {
  await vault.wipeAll();
  await db.del('kv', 'mdm.last_ok');
  await db.del('kv', 'mdm.acks');
  if (forget) await db.del('kv', 'device');
}

/** The app started again at route (its in-memory state gone). */
export function restart(route) {
  location.hash = `#${route}`;
  location.reload();
}
