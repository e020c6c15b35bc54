// agent.js — the tablet's device-management agent (docs/api.md §1.21b-d,
// docs/tablet.md "Device management").
//
//   startup()   before the outbox loads: after the policy's max_offline_days
//               without a successful check-in, the cached business data is
//               wiped (wipe.js wipeBusiness) and state.notice says so;
//   start()     checks in now (when logged in), after every login, and every
//               CHECKIN_MS while the app runs; a business answer
//               device_noncompliant shows the banner too (client.js
//               onNoncompliant);
//   checkin()   DEVICE_CHECKIN with report.js's report (only under the
//               Android shell, see report.js), then each delivered command:
//                 wipe           business data wiped, acknowledged done, then
//                                everything wiped: back to activation
//                 lock           logged out (the server ended the session);
//                                acknowledged after the next login
//                 unbind         acknowledged done (the server unbinds), then
//                                everything wiped and the device id
//                                forgotten: back to activation
//                 refresh_policy acknowledged done, checks in again
//                 update_app     the service worker asked for the new
//                                version: done (failed without one)
//   state       {compliant, violations, notice, checkedAt}: the banner's.
// Acknowledgements that cannot be sent now (no session) wait in kv
// 'mdm.acks' and go first at the next check-in.
import { reactive } from 'vue';
import * as db from '../zy1/db.js';
import { call, logout, onSession, onNoncompliant, session } from '../zy1/client.js';
import { report, shellPresent } from './report.js';
import { wipeBusiness, wipeDevice, restart } from './wipe.js';

export const CHECKIN_MS = 5 * 60 * 1000;
const DAY_MS = 86400 * 1000;

export const state = reactive({ compliant: null, violations: [], notice: '', checkedAt: 0, busy: false });

/** At start, before the outbox loads: the offline limit. */
export async function startup() {
  try {
    const last = await db.get('kv', 'mdm.last_ok');
    const days = (await db.get('kv', 'mdm.policy'))?.max_offline_days;
    if (last && days > 0 && Date.now() - last > days * DAY_MS) {
      await wipeBusiness();
      await db.put('kv', 'mdm.last_ok', Date.now()); // the limit counts again from here
      state.notice = `本设备已超过 ${days} 天未完成安全检查，按安全策略已清除本机缓存的业务数据（草稿、待上传）。请联网完成安全检查。`;
    }
  } catch (e) {
    console.error('mdm startup', e);
  }
}

async function pendingAcks() {
  return (await db.get('kv', 'mdm.acks')) || [];
}

async function ack(a, { keep = true } = {}) {
  try {
    await call('DEVICE_COMMAND_ACK', a);
    return true;
  } catch (e) {
    // No session (a lock ended it) or no network: sent after the next login.
    if (keep && ['session_invalid', 'session_expired', 'network', 'unavailable', 'busy', 'overloaded'].includes(e.code)) {
      await db.put('kv', 'mdm.acks', [...(await pendingAcks()), a]);
    }
    return false;
  }
}

async function flushAcks() {
  const acks = await pendingAcks();
  if (!acks.length) return;
  await db.del('kv', 'mdm.acks');
  for (const a of acks) await ack(a);
}

async function updateApp() {
  const reg = await navigator.serviceWorker?.getRegistration?.();
  if (!reg) return false;
  await reg.update();
  return true;
}

/** One delivered command; true when the app restarts (nothing after it runs). */
async function execute(cmd, again) {
  const done = { id: cmd.id, result: 'done' };
  switch (cmd.kind) {
    case 'wipe':
      await wipeBusiness();
      await ack(done, { keep: false });
      await wipeDevice(false);
      restart('/activate');
      return true;
    case 'lock':
      await db.put('kv', 'mdm.acks', [...(await pendingAcks()), done]);
      await logout();
      state.notice = '管理员已锁定本设备，请重新登录。';
      location.hash = '#/login';
      return true;
    case 'unbind':
      await wipeBusiness();
      await ack(done, { keep: false });
      await wipeDevice(true);
      restart('/activate');
      return true;
    case 'refresh_policy':
      await ack(done);
      again.value = true;
      return false;
    case 'update_app':
      await ack((await updateApp().catch(() => false)) ? done : { id: cmd.id, result: 'failed', reason: '本机不支持在线更新，请重新打开应用' });
      return false;
    default:
      await ack({ id: cmd.id, result: 'failed', reason: `不支持的指令：${String(cmd.kind).slice(0, 40)}` });
      return false;
  }
}

/** DEVICE_CHECKIN now (logged in, under the shell), then its commands. */
export async function checkin() {
  if (!shellPresent() || !session() || state.busy) return;
  state.busy = true;
  try {
    const again = { value: false };
    for (let round = 0; round < 2; round++) {
      await flushAcks();
      const ans = await call('DEVICE_CHECKIN', await report());
      await db.put('kv', 'mdm.last_ok', Date.now());
      await db.put('kv', 'mdm.policy', { max_offline_days: ans.policy?.max_offline_days || 0, version: ans.policy_version });
      state.compliant = ans.compliant;
      state.violations = ans.violations || [];
      state.checkedAt = Date.now();
      again.value = false;
      for (const cmd of ans.commands || []) if (await execute(cmd, again)) return;
      if (!again.value) break;
    }
  } catch (e) {
    console.warn('mdm checkin', e.code || e);
  } finally {
    state.busy = false;
  }
}

let timer = null;
let lastSid = null;

/** Check-ins at start, after each login, every CHECKIN_MS. */
export function start() {
  if (timer) return;
  lastSid = session()?.sid || null;
  onSession((s) => {
    if (s && s.sid !== lastSid) checkin();
    lastSid = s?.sid || null;
  });
  onNoncompliant((data) => {
    state.compliant = false;
    if (Array.isArray(data?.violations)) state.violations = data.violations;
  });
  timer = setInterval(checkin, CHECKIN_MS);
  checkin();
}
