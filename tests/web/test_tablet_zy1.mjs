// ZY1 in the browser (issue 14), in Debian's Chromium against the real daemon:
// - activation and login through the UI; the server key is fetched once, at
//   activation, and never again (pinned);
// - IndexedDB holds the device id, the server key pinned at activation, the
//   vault's AES-GCM key as a non-extractable CryptoKey, and the device secret
//   and session only as {iv, ct} records; localStorage/sessionStorage are empty;
// - SM runs in the sealing worker: a worker is running, the page's own script
//   holds no SM2 code, and the page never drew a 32-byte secret S from
//   crypto.getRandomValues (the worker did);
// - a reload keeps the activation and the session (a check-in works after it);
// - an answer with a flipped `ct` byte is refused with the Chinese message and
//   the check-in is not taken as done; once answers pass again the outbox
//   resends the same cseq and the server still has that visit once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRig, PASSWORD } from './lib/rig.mjs';

const GEO = { latitude: 30.657, longitude: 104.066 };
let rig;

before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig?.stop();
});

const shots = process.env.ZHANYE_SCREENSHOTS;
const shot = (page, name) => (shots ? page.screenshot({ path: join(shots, `tablet-${name}.png`) }) : null);

/** Visits of bank B01's customer on the server (the daemon's own database, read-only). */
function visits(customer) {
  const sql = `SELECT count(*) FROM visits v JOIN banks b ON b.id = v.bank_id WHERE b.code = 'B01' AND v.customer_id = ${customer};`;
  return Number(rig.sql(sql));
}

async function dumpIdb(page) {
  return page.evaluate(async () => {
    const db = await new Promise((res, rej) => {
      const r = indexedDB.open('zhanye');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const read = (store) =>
      new Promise((res, rej) => {
        const s = db.transaction(store).objectStore(store);
        const k = s.getAllKeys();
        const v = s.getAll();
        v.onsuccess = () => res(Object.fromEntries(k.result.map((key, i) => [key, v.result[i]])));
        v.onerror = () => rej(v.error);
      });
    const kv = await read('kv');
    const vault = await read('vault');
    db.close();
    const key = kv['vault.key'];
    const shape = (rec) => rec && { keys: Object.keys(rec).sort(), iv: rec.iv instanceof Uint8Array ? rec.iv.length : -1, ct: rec.ct instanceof Uint8Array ? rec.ct.length : -1 };
    return {
      device: kv.device,
      key: key && { isKey: key instanceof CryptoKey, extractable: key.extractable, alg: key.algorithm.name, len: key.algorithm.length, usages: key.usages },
      ds: shape(vault['device.ds']),
      session: shape(vault.session),
      // Every string anywhere in the vault records (there should be only `kind`).
      strings: JSON.stringify(Object.values(vault), (k, v) => (v instanceof Uint8Array ? undefined : v)),
      local: localStorage.length,
      sess: sessionStorage.length,
    };
  });
}

test('activation, login, storage, worker, restart, tampered answer', async () => {
  const { context, page } = await rig.newPage({ geolocation: GEO, permissions: ['geolocation'] });
  // Record the sizes the page (main thread) draws from getRandomValues.
  await page.addInitScript(() => {
    const orig = crypto.getRandomValues.bind(crypto);
    window.__draws = [];
    crypto.getRandomValues = (a) => {
      window.__draws.push(a.length);
      return orig(a);
    };
  });
  const code = rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim();

  await page.goto(rig.url + '/');
  await page.waitForURL(/#\/activate/);
  await page.getByPlaceholder('请输入柜员号').fill('demo01');
  await page.getByPlaceholder('如 K7QX-9PRM').fill(code.toLowerCase().replace('-', ' '));
  await page.getByRole('button', { name: '激活' }).click();
  await page.waitForURL(/#\/login/);
  // From here on the pinned key is used: /pubkey is never asked again.
  let pubkeyAsked = 0;
  page.on('request', (r) => (r.url().includes('/api/v1/pubkey') ? pubkeyAsked++ : 0));
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.hash === '#/');

  // What is stored, and how.
  const st = await dumpIdb(page);
  assert.match(st.device.dev, /^[0-9a-f]{32}$/);
  assert.equal(st.device.teller, 'demo01');
  assert.ok(st.device.kid && st.device.pub, 'the server key is pinned');
  const pub = await (await fetch(`${rig.apiUrl}/api/v1/pubkey`)).json();
  assert.deepEqual({ kid: st.device.kid, pub: st.device.pub }, { kid: pub.keys[0].kid, pub: pub.keys[0].pub });
  assert.deepEqual({ ...st.key, usages: [...st.key.usages].sort() }, { isKey: true, extractable: false, alg: 'AES-GCM', len: 256, usages: ['decrypt', 'encrypt'] });
  // The device secret: 44 base64 characters as JSON (46 bytes) + the 16-byte GCM tag.
  assert.deepEqual(st.ds, { keys: ['ct', 'iv', 'kind'], iv: 12, ct: 46 + 16 });
  assert.deepEqual(st.session.keys, ['ct', 'iv', 'kind']);
  assert.equal(st.session.iv, 12);
  assert.equal(st.strings, '[{"kind":"json"},{"kind":"json"}]', 'no plaintext in the vault');
  assert.equal(st.local, 0, 'nothing in localStorage');
  assert.equal(st.sess, 0, 'nothing in sessionStorage');

  // SM runs in the worker.
  assert.ok(page.workers().some((w) => /seal\.worker/.test(w.url())), 'the sealing worker runs');
  const draws = await page.evaluate(() => window.__draws);
  assert.ok(!draws.includes(32), `the page drew no 32-byte S itself (draws: ${draws})`);
  const scripts = await page.evaluate(async () => {
    const srcs = [...document.querySelectorAll('script[src]')].map((s) => s.src);
    return Promise.all(srcs.map((s) => fetch(s).then((r) => r.text())));
  });
  assert.ok(scripts.length > 0);
  for (const text of scripts) assert.ok(!text.includes('115792089210356248756420345214020892766061623724957744567843809356293439045923'), 'no SM2 curve in the page script');

  // Restart: the activation and the session stay; a sealed call works.
  await page.reload();
  await page.waitForURL((u) => u.hash === '#/');
  await page.getByText(/展业 · 张晓明/).waitFor(); // the session's teller, read back after the reload
  const before1 = visits(1);
  await page.goto(rig.url + '/#/visit/checkin?customer=1');
  await page.getByText('当前位置').waitFor();
  await page.getByText(/^104\.066|30\.65700/).waitFor();
  await page.getByRole('radio', { name: '见到客户' }).click();
  await page.getByPlaceholder('请填写走访情况（客户需求、反馈等）').fill('重启后签到');
  await shot(page, 'visit-checkin');
  await page.getByRole('button', { name: '签到' }).click();
  await page.getByText('签到成功').waitFor();
  assert.equal(visits(1), before1 + 1);

  // A tampered answer: refused, not taken as done; resent with the same cseq later.
  const before2 = visits(2);
  let tampered = 0;
  const bodies = [];
  await page.route('**/api/v1/tx/VISIT_CHECKIN', async (route) => {
    bodies.push(route.request().postData());
    const resp = await route.fetch();
    const b = JSON.parse(await resp.text());
    const ct = Buffer.from(b.ct, 'base64');
    ct[0] ^= 1;
    b.ct = ct.toString('base64');
    tampered++;
    await route.fulfill({ response: resp, body: JSON.stringify(b) });
  });
  await page.goto(rig.url + '/#/visit/checkin?customer=2');
  await page.getByText(/^104\.066|30\.65700/).waitFor();
  await page.getByRole('radio', { name: '有意向' }).click();
  await page.getByPlaceholder('请填写走访情况（客户需求、反馈等）').fill('应答被篡改');
  await page.getByRole('button', { name: '签到' }).click();
  await page.getByText('已保存，正在上传…').waitFor();
  await page.goto(rig.url + '/#/pending');
  await page.getByText('服务器应答未通过校验（可能在传输中被篡改或损坏），本次结果不予采信；请稍后重试，已提交的内容不会重复办理。').waitFor();
  const item = page.locator('.item', { hasText: '走访签到 · 客户 #2' });
  assert.match(await item.innerText(), /待上传|上传中/);
  assert.doesNotMatch(await item.innerText(), /已上传/, 'not taken as done');
  assert.ok(tampered >= 1);
  assert.equal(visits(2), before2 + 1, 'the server did the visit (only its answer was altered)');
  await shot(page, 'pending');
  await page.unroute('**/api/v1/tx/VISIT_CHECKIN');
  // The backoff resends: the stored answer opens, the item is done.
  await item.getByText('已上传', { exact: true }).waitFor({ timeout: 90000 });
  assert.equal(visits(2), before2 + 1, 'resending the same cseq did the visit once');
  assert.equal(pubkeyAsked, 0, 'the server key is not fetched again after activation');
  assert.equal(new Set(bodies).size, bodies.length, 'each attempt is a new envelope');
  await context.close();
});
