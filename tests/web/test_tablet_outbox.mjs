// The outbox on a weak network (issue 14), in Chromium against the real daemon:
// - with the network cut, three check-ins made on the check-in screen are
//   saved ("已保存，联网后自动上传") and listed on 待上传;
// - a restart of the app (reload) with the server unreachable loses none:
//   still three pending;
// - when the network returns (the `online` event) all three are sent, in the
//   order they were made, and the server has exactly one visit for each;
// - an answer lost on the way (the request reached the server, the response
//   was cut) is resent with the same cseq: the server still has one visit.
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

const sql = (q) => rig.sql(q);
const B01 = "(SELECT id FROM banks WHERE code = 'B01')";
const visits = (customer) => Number(sql(`SELECT count(*) FROM visits WHERE bank_id = ${B01} AND customer_id = ${customer};`));
const lastVisit = () => Number(sql(`SELECT coalesce(max(id), 0) FROM visits WHERE bank_id = ${B01};`));

async function activateAndLogin(page) {
  const code = rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim();
  await page.goto(rig.url + '/');
  await page.getByPlaceholder('请输入柜员号').fill('demo01');
  await page.getByPlaceholder('如 K7QX-9PRM').fill(code);
  await page.getByRole('button', { name: '激活' }).click();
  await page.waitForURL(/#\/login/);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.hash === '#/');
}

async function checkIn(page, customer, outcome, notes) {
  await page.goto(`${rig.url}/#/visit/checkin?customer=${customer}`);
  await page.getByText(`#${customer}`, { exact: true }).waitFor();
  await page.getByText(/^30\.65700/).waitFor();
  await page.getByRole('radio', { name: outcome }).click();
  await page.getByPlaceholder('请填写走访情况（客户需求、反馈等）').fill(notes);
  await page.getByRole('button', { name: '签到' }).click();
}

const items = (page) => page.locator('.item');

test('offline check-ins survive a restart and are sent once, in order', async () => {
  const { context, page } = await rig.newPage({ geolocation: GEO, permissions: ['geolocation'] });
  await activateAndLogin(page);
  const customers = [3, 4, 5];
  const before = Object.fromEntries(customers.map((c) => [c, visits(c)]));
  const top = lastVisit();

  await context.setOffline(true);
  for (const [i, c] of customers.entries()) {
    await checkIn(page, c, ['见到客户', '不在家', '有意向'][i], `离线签到 ${c}`);
    await page.getByText('已保存，联网后自动上传').waitFor();
  }
  await shot(page, 'visit-checkin-offline');
  await page.goto(`${rig.url}/#/pending`);
  await page.getByText('3 条待上传：当前无网络，联网后自动上传，内容不会丢失').waitFor();
  assert.equal(await items(page).count(), 3);
  for (const c of customers) assert.match(await items(page).filter({ hasText: `客户 #${c}` }).innerText(), /待上传/);
  await shot(page, 'pending-offline');
  for (const c of customers) assert.equal(visits(c), before[c], 'nothing reached the server');

  // Restart the app with the server still unreachable (the document itself
  // must load: there is no service worker yet, so only the API is cut).
  await page.route('**/api/**', (r) => r.abort('internetdisconnected'));
  await context.setOffline(false);
  await page.reload();
  await page.waitForURL(/#\/pending/);
  await page.getByText(/3 条待上传/).waitFor();
  assert.equal(await items(page).count(), 3);
  for (const c of customers) assert.match(await items(page).filter({ hasText: `客户 #${c}` }).innerText(), /待上传|上传中/);
  await context.setOffline(true);
  await page.unroute('**/api/**');
  for (const c of customers) assert.equal(visits(c), before[c]);

  // The network returns: the `online` event sends all three.
  await context.setOffline(false);
  await page.getByText('已上传', { exact: true }).nth(2).waitFor({ timeout: 60000 });
  await page.getByText(/条待上传/).waitFor({ state: 'detached' });
  for (const c of customers) assert.equal(visits(c), before[c] + 1, `exactly one visit for customer ${c}`);
  const order = sql(`SELECT customer_id FROM visits WHERE bank_id = ${B01} AND id > ${top} ORDER BY id;`).split('\n').map(Number);
  assert.deepEqual(order, customers, 'sent in the order they were made');
  await shot(page, 'pending-done');

  // A lost answer: the request reaches the server, its response is cut once.
  const c = 6;
  const before6 = visits(c);
  let seen = 0;
  await page.route('**/api/v1/tx/VISIT_CHECKIN', async (route) => {
    seen++;
    if (seen === 1) {
      await route.fetch(); // the server does the visit…
      return route.abort('connectionreset'); // …and the tablet never hears of it
    }
    return route.continue();
  });
  await checkIn(page, c, '已办理', '应答丢失后重发');
  await page.getByText('签到成功').waitFor({ timeout: 60000 });
  assert.ok(seen >= 2, 'sent again');
  assert.equal(visits(c), before6 + 1, 'the same cseq twice is one visit');
  await page.setViewportSize({ width: 800, height: 1280 });
  await shot(page, 'visit-checkin-portrait');
  await context.close();
});

test('the queue waits for a new login, and for a new activation, then resumes', async () => {
  const { context, page } = await rig.newPage({ geolocation: GEO, permissions: ['geolocation'] });
  await activateAndLogin(page);
  // An administrator resets demo01's password: the session ends on the server.
  rig.cli('teller', 'reset-password', '--code', 'demo01', '--password', PASSWORD);
  await rig.restart(); // no cached session record outlives the reset (cache_ttl_ms)

  const before7 = visits(7);
  await checkIn(page, 7, '见到客户', '会话失效后签到');
  await page.goto(`${rig.url}/#/pending`);
  await page.getByText('1 条待上传：登录已失效，重新登录后自动上传').waitFor();
  assert.equal(visits(7), before7);
  await page.getByRole('button', { name: '去登录' }).click();
  await page.waitForURL(/#\/login/);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.hash === '#/');
  await page.goto(`${rig.url}/#/pending`);
  await items(page).filter({ hasText: '客户 #7' }).getByText('已上传', { exact: true }).waitFor();
  assert.equal(visits(7), before7 + 1);

  // The device is unbound on the server: its secret and session are wiped,
  // the check-in waits for a new activation.
  const dev = await page.evaluate(
    () =>
      new Promise((res) => {
        indexedDB.open('zhanye').onsuccess = (e) => {
          const db = e.target.result;
          const r = db.transaction('kv').objectStore('kv').get('device');
          r.onsuccess = () => (db.close(), res(r.result.dev));
        };
      }),
  );
  rig.cli('device', 'unbind', '--dev', dev);
  // The daemon caches device records for [identity] cache_ttl_ms when another
  // process (the CLI) changes them: a restart makes the unbind certain now.
  await rig.restart();
  const before8 = visits(8);
  await checkIn(page, 8, '有意向', '解绑后签到');
  await page.getByText('已保存，正在上传…').waitFor();
  // The app now asks for a new activation (the router sends every screen there).
  const vaultKeys = () =>
    page.evaluate(
      () =>
        new Promise((res) => {
          indexedDB.open('zhanye').onsuccess = (e) => {
            const db = e.target.result;
            const r = db.transaction('vault').objectStore('vault').getAllKeys();
            r.onsuccess = () => (db.close(), res(r.result));
          };
        }),
    );
  for (const end = Date.now() + 30000; (await vaultKeys()).includes('device.ds'); ) {
    assert.ok(Date.now() < end, 'the device secret is wiped');
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.goto(`${rig.url}/#/pending`);
  await page.waitForURL(/#\/activate/);
  assert.equal(visits(8), before8);
  const secretLeft = await vaultKeys();
  assert.ok(!secretLeft.includes('device.ds') && !secretLeft.includes('session'), `secret and session wiped (left: ${secretLeft})`);
  const code = rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim();
  await page.getByPlaceholder('请输入柜员号').fill('demo01');
  await page.getByPlaceholder('如 K7QX-9PRM').fill(code);
  await page.getByRole('button', { name: '激活' }).click();
  await page.waitForURL(/#\/login/);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.hash === '#/');
  await page.goto(`${rig.url}/#/pending`);
  await items(page).filter({ hasText: '客户 #8' }).getByText('已上传', { exact: true }).waitFor();
  assert.equal(visits(8), before8 + 1);
  await context.close();
});

test('without a position the check-in says why and keeps what was typed', async () => {
  const { context, page } = await rig.newPage(); // geolocation not granted
  await activateAndLogin(page);
  await page.goto(`${rig.url}/#/visit/checkin?customer=9`);
  await page.getByText('定位权限被拒绝：请在系统设置中允许本应用使用位置，然后点“重新定位”。可先在下方写明所在地点。').waitFor();
  await page.getByPlaceholder('如：XX 村 3 组张家院内').fill('村委会门口');
  await page.getByPlaceholder('请填写走访情况（客户需求、反馈等）').fill('定位被拒');
  assert.ok(await page.getByRole('button', { name: '签到' }).isDisabled());
  await shot(page, 'visit-checkin-nolocation');
  // Allowed afterwards: 重新定位, then the check-in goes, with the place note.
  await context.grantPermissions(['geolocation']);
  await context.setGeolocation(GEO);
  const before9 = visits(9);
  await page.getByRole('button', { name: '重新定位' }).click();
  await page.getByText(/^30\.65700/).waitFor();
  await page.getByRole('radio', { name: '不在家' }).click();
  await page.getByRole('button', { name: '签到' }).click();
  await page.getByText('签到成功').waitFor();
  assert.equal(visits(9), before9 + 1);
  await context.close();
});
