// The tablet's device management (docs/tablet.md "Device management") in
// Chromium against the real daemon, the Android shell stood in for by a
// window.ZhanyeShell injected before the app loads:
//   - after login the app checks in (the server has its compliant verdict);
//   - a wipe sent by the admin reaches the tablet at its next check-in (here:
//     the app started again): its drafts vanish (the vault is empty, the
//     outbox too), it is back on the activation screen, and the command is
//     `done` on the server;
//   - a rooted tablet's check-in is not compliant: the banner says so in
//     Chinese with the violation, and a business call is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRig, sleep } from './lib/rig.mjs';
import { activateAndLogin } from './lib/tablet.mjs';
import { consoleLogin, api } from './lib/console.mjs';

const shell = (rooted) => `window.ZhanyeShell = { security: () => ({ rooted: ${rooted}, usb_debug: false, screen_lock: true, encrypted: true }) };`;

/** Polls fn until it returns a truthy value (the state waited for), or fails. */
async function until(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The records of an IndexedDB store of the app's database. */
const count = (page, store) =>
  page.evaluate(async (store) => {
    const db = await new Promise((resolve, reject) => {
      const rq = indexedDB.open('zhanye');
      rq.onsuccess = () => resolve(rq.result);
      rq.onerror = () => reject(rq.error);
    });
    const n = await new Promise((resolve, reject) => {
      const g = db.transaction(store).objectStore(store).getAllKeys();
      g.onsuccess = () => resolve(g.result.filter((k) => typeof k === 'string' && k.startsWith('biz.draft.')).length);
      g.onerror = () => reject(g.error);
    });
    db.close();
    return n;
  }, store);

/** A business draft as the app keeps it: sealed under the vault's key. */
const putDraft = (page) =>
  page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const rq = indexedDB.open('zhanye');
      rq.onsuccess = () => resolve(rq.result);
      rq.onerror = () => reject(rq.error);
    });
    const req = (store, mode, fn) =>
      new Promise((resolve, reject) => {
        const g = fn(db.transaction(store, mode).objectStore(store));
        g.onsuccess = () => resolve(g.result);
        g.onerror = () => reject(g.error);
      });
    const key = await req('kv', 'readonly', (s) => s.get('vault.key'));
    const name = 'biz.draft.MDMTEST';
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const body = new TextEncoder().encode(JSON.stringify({ key: 'MDMTEST', kind: 'debit_card', updated: Date.now() }));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(`zy-vault|${name}`) }, key, body));
    await req('vault', 'readwrite', (s) => s.put({ kind: 'json', iv, ct }, name));
    db.close();
  });

test('tablet device management', { timeout: 240000 }, async () => {
  const rig = await startRig();
  try {
    const { page } = await rig.newPage();
    await page.addInitScript(shell(false));
    await activateAndLogin(rig, page, 'demo01');
    const dev = await until(() => rig.sql("SELECT dev FROM mdm_devices WHERE compliant = 1"), 'the check-in after login');
    assert.match(dev, /^[0-9a-f]{32}$/);
    assert.match(rig.sql(`SELECT app_version FROM mdm_devices WHERE dev = '${dev}'`), /^1\.0\.0\+[0-9a-f]{8}$/);
    await putDraft(page);
    assert.equal(await count(page, 'vault'), 1);

    // The admin sends a wipe.
    const { page: admin } = await rig.newPage({ viewport: { width: 1440, height: 900 } });
    await consoleLogin(rig, admin, 'admin01');
    let r = await api(admin, 'POST', '/mdm/commands', { dev, kind: 'wipe' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const id = r.json.command.id;

    // The tablet's next check-in (the app started again) executes it.
    await page.reload();
    await page.waitForURL(/#\/activate/, { timeout: 30000 });
    await page.getByRole('button', { name: '激活' }).waitFor();
    assert.equal(await count(page, 'vault'), 0, 'the drafts are gone');
    const state = await until(async () => {
      const a = await api(admin, 'GET', `/mdm/commands?dev=${dev}`);
      const c = a.json.commands.find((x) => x.id === id);
      return c && c.state !== 'delivered' && c.state !== 'queued' ? c.state : null;
    }, 'the acknowledgement');
    assert.equal(state, 'done');

    // A rooted tablet: the banner, and business refused.
    const { page: p2 } = await rig.newPage();
    await p2.addInitScript(shell(true));
    await activateAndLogin(rig, p2, 'demo02');
    await p2.locator('.mdm-banner .title').filter({ hasText: '本设备不符合安全策略，暂不能办理业务' }).waitFor({ timeout: 20000 });
    const banner = await p2.locator('.mdm-banner').innerText();
    assert.match(banner, /root/i, 'the violation is shown');
    assert.equal(rig.sql("SELECT COUNT(*) FROM mdm_devices WHERE compliant = 0"), '1');
    if (process.env.ZHANYE_SCREENSHOTS) await p2.screenshot({ path: `${process.env.ZHANYE_SCREENSHOTS}/tablet-mdm-banner.png` });
    await p2.setViewportSize({ width: 800, height: 1280 });
    await p2.locator('.mdm-banner').waitFor();
  } finally {
    await rig.stop();
  }
});
