// The tablet's visit screens against the real daemon with the bank-system
// simulators (the CIS answers CUSTOMER_PREFILL) and the demo's visit tasks
// (`zhanye grid sync`): activation and login lead to home, whose task list
// and map both show as many tasks as VISIT_TASKS answers a second tablet
// (`zhanye call`); a bad ID number is refused in Chinese before anything is
// sent; a new customer is prefilled from the CIS and created, and its
// profile shows it; an edit made while another manager (demo02) changed the
// record gets `conflict`, is read again keeping what was typed, and saved on
// the new version with both changes; a manual tag set on the profile is still there after a
// reload and on the server; a recommendation accepted is recorded
// (PERF_SUMMARY and the perf page count it); a PNG taken by the camera
// input is uploaded in chunks, cut off after the first chunk, resumed after
// a reload from what the server has (only the missing chunks are sent), and
// stored with the PNG's SM3 and size (ATTACH_LIST on screen and ATTACH_GET
// on the server); the performance page draws its chart; no screen scrolls
// sideways at 800x1280 or 1280x800.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { startRig, BIN, PASSWORD } from './lib/rig.mjs';

const SHOTS = process.env.ZHANYE_SCREENSHOTS;
const CIS_PERSON = { id_no: '520102197805050024', name: '杨玉梅', phone: '18985000024' }; // sims/sim_cis.c

let rig;
after(async () => rig && (await rig.stop()));

/** An RGB PNG of random pixels, stored without compression (big enough for 3 chunks of 256 KiB). */
function png(width, height) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let i = 0; i < raw.length; i++) raw[i] = i % (width * 3 + 1) === 0 ? 0 : (Math.random() * 256) | 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 0 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A second tablet on the command line (`zhanye call`) for demo01: the server's own answers. */
function cliTablet(teller = 'demo01') {
  const state = join(rig.dir, `cli-${teller}.state`);
  const run = (...args) => JSON.parse(execFileSync(BIN, ['call', '--state', state, ...args], { encoding: 'utf8' }));
  return {
    activate() {
      const code = rig.cli('activation', 'issue', '--teller', teller).trim().split('\n').pop().trim();
      execFileSync(BIN, ['call', '--state', state, '--server', rig.apiUrl, '--activate', code, '--teller', teller], { encoding: 'utf8' });
    },
    login: () => run('LOGIN', '--data', JSON.stringify({ teller, password: PASSWORD })),
    tx(tx, data) {
      const ans = run(tx, '--data', JSON.stringify(data));
      assert.equal(ans.code, 'OK', `${tx}: ${JSON.stringify(ans)}`);
      return ans.data;
    },
  };
}

async function noSideScroll(page, what) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert.ok(sw <= cw, `${what}: scrollWidth ${sw} > clientWidth ${cw}`);
}

const shot = (page, name) => (SHOTS ? page.screenshot({ path: join(SHOTS, `tablet-${name}.png`) }) : null);

test('visit screens: home, customers, tags, recommendations, collection, performance', async () => {
  // The simulators take nine ports beside a free one: on a busy machine one may be
  // taken, and the rig refuses to start; another free port is tried.
  for (let attempt = 1; !rig; attempt++) {
    try {
      rig = await startRig({ sims: true });
    } catch (e) {
      if (attempt === 6) throw e;
      console.log(`# rig did not start (${e.message}), trying again`);
    }
  }
  rig.cli('grid', 'sync');
  const cli = cliTablet();
  cli.activate();
  cli.login();
  const tasks = cli.tx('VISIT_TASKS', {}).items;
  assert.ok(tasks.length > 0, 'grid sync gave demo01 tasks today');
  const placed = tasks.filter((t) => typeof t.lat === 'number').length;
  const before = cli.tx('PERF_SUMMARY', { period: 'day' }).current; // the demo's own work counts too

  // A tablet near the tasks, its position granted.
  const near = tasks.find((t) => typeof t.lat === 'number');
  const { page } = await rig.newPage({ geolocation: { latitude: near.lat + 0.002, longitude: near.lon - 0.002 }, permissions: ['geolocation'] });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await run(page, errors, tasks, placed, cli, before);
  } catch (e) {
    if (process.env.ZHANYE_FAILSHOT) await page.screenshot({ path: process.env.ZHANYE_FAILSHOT, fullPage: true }).catch(() => {});
    throw e;
  }
});

async function run(page, errors, tasks, placed, cli, before) {

  // Activation (the command-line tablet is unbound: one tablet per teller), then login.
  await page.goto(`${rig.url}/`);
  await page.getByPlaceholder('请输入柜员号').fill('demo01');
  await page.getByPlaceholder('如 K7QX-9PRM').fill(rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim());
  await page.getByRole('button', { name: '激活' }).click();
  await page.waitForURL(/#\/login$/);
  await page.locator('input[type=password]').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL(/#\/$/);

  // Home: the list and the map both show VISIT_TASKS' tasks; the tab bar is there.
  await page.getByTestId('task-count').filter({ hasText: String(tasks.length) }).waitFor();
  await page.getByTestId('task-item').nth(tasks.length - 1).waitFor();
  assert.equal(await page.getByTestId('task-item').count(), tasks.length);
  assert.equal(await page.getByTestId('map-point').count(), placed);
  await page.getByText('蓝点为我的位置').waitFor();
  await page.getByRole('img', { name: '走访任务位置图' }).getByLabel('我的位置').waitFor({ state: 'attached' });
  await page.getByTestId('map-point').nth(1).click();
  await page.getByTestId('selected-task').getByRole('button', { name: '走访签到' }).waitFor();
  for (const tab of ['首页', '客户', '业绩', '待上传']) await page.locator('.van-tabbar').getByText(tab).waitFor();
  await noSideScroll(page, 'home 1280x800');
  await shot(page, 'home');

  // Customer search and list.
  await page.locator('.van-tabbar').getByText('客户').click();
  await page.waitForURL(/#\/customers$/);
  await page.getByPlaceholder('输入姓名、身份证号、手机号或统一社会信用代码').fill('王');
  await page.getByRole('button', { name: '查找' }).click();
  await page.getByTestId('customer-item').first().waitFor();
  await shot(page, 'customers');

  // New customer: a bad ID number is refused in Chinese before anything is sent.
  await page.getByText('新建客户').first().click();
  await page.waitForURL(/#\/customers\/new$/);
  const prefills = [];
  page.on('request', (r) => r.url().endsWith('/tx/CUSTOMER_PREFILL') && prefills.push(r));
  await page.getByPlaceholder('请输入18位身份证号码').fill('520102197805050025');
  await page.getByRole('button', { name: '查询客户信息' }).click();
  await page.getByText('身份证号码校验码不正确').first().waitFor();
  assert.equal(prefills.length, 0, 'nothing sent for a bad ID number');

  // ... the right one: the CIS fills the form.
  await page.getByPlaceholder('请输入18位身份证号码').fill(CIS_PERSON.id_no);
  await page.getByRole('button', { name: '查询客户信息' }).click();
  await page.getByText('已从客户信息系统带出客户信息').waitFor();
  assert.equal(await page.getByPlaceholder('请输入客户姓名').inputValue(), CIS_PERSON.name);
  assert.equal(await page.getByPlaceholder('11位手机号码（选填）').inputValue(), CIS_PERSON.phone);
  assert.equal(await page.getByLabel('职业').inputValue(), 'medical');
  await noSideScroll(page, 'new customer 1280x800');
  await shot(page, 'customer-new');
  await page.getByRole('button', { name: '保存并建档' }).click();
  await page.waitForURL(/#\/customers\/\d+$/);
  const cid = Number(page.url().match(/customers\/(\d+)$/)[1]);
  await page.locator('.name').filter({ hasText: CIS_PERSON.name }).waitFor();
  await page.getByRole('button', { name: '走访签到' }).first().waitFor();

  // Edit while another manager of the bank (demo02) changes the record: `conflict`,
  // read again keeping what was typed, then saved on the new version.
  const other = cliTablet('demo02');
  other.activate();
  other.login();
  await page.getByText('编辑', { exact: true }).click();
  await page.waitForURL(new RegExp(`#/customers/${cid}/edit$`));
  await page.getByPlaceholder('家庭住址或经营地址（选填）').waitFor();
  other.tx('CUSTOMER_UPDATE', { customer_id: cid, version: 1, phone: '13700001111' });
  await page.getByPlaceholder('家庭住址或经营地址（选填）').fill('贵州省贵阳市南明区花果园大街12号3栋');
  await page.getByRole('button', { name: '保存修改' }).click();
  await page.getByText('其他人修改了该客户档案').waitFor();
  await page.getByRole('button', { name: '重新读取' }).click();
  await page.getByText('他人修改了：手机号').waitFor();
  assert.equal(await page.getByPlaceholder('11位手机号码（选填）').inputValue(), '13700001111');
  assert.equal(await page.getByPlaceholder('家庭住址或经营地址（选填）').inputValue(), '贵州省贵阳市南明区花果园大街12号3栋');
  await page.getByRole('button', { name: '保存修改' }).click();
  await page.waitForURL(new RegExp(`#/customers/${cid}$`));
  await page.getByText('档案版本 3').waitFor();

  // A manual tag: set, kept after a reload.
  const vip = page.getByTestId('tags').getByRole('switch', { name: /重点客户/ });
  await vip.click();
  await page.getByText('已保存：设置“重点客户”').waitFor();
  await page.reload();
  await page.getByTestId('tags').getByRole('switch', { name: /重点客户/, checked: true }).waitFor();

  // A recommendation accepted.
  const rec = page.getByTestId('rec-item').first();
  await rec.waitFor();
  const product = (await rec.locator('.rname').innerText()).split(' ')[0];
  await rec.getByRole('button', { name: '接受' }).click();
  await rec.getByText('接受 · 已记录').waitFor();
  await noSideScroll(page, 'profile 1280x800');
  await shot(page, 'customer-profile');

  // Information collection: a PNG from the camera, cut off after its first chunk.
  const photo = png(500, 400);
  const sm3 = createHash('sm3').update(photo).digest('hex');
  const chunks = Math.ceil(photo.length / 262144);
  assert.ok(chunks >= 3);
  await page.getByRole('button', { name: '信息采集' }).click();
  await page.waitForURL(new RegExp(`#/customers/${cid}/collect$`));
  let sent = 0;
  await page.route('**/api/v1/tx/ATTACH_CHUNK', (route) => (sent++ === 0 ? route.continue() : route.abort('internetdisconnected')));
  await page.getByTestId('camera-input').setInputFiles({ name: 'IMG_0001.png', mimeType: 'image/png', buffer: photo });
  await page.getByAltText('预览').waitFor();
  await page.getByPlaceholder('如 身份证正面、营业执照、房屋照片').fill('房屋照片');
  await page.getByRole('button', { name: '上传', exact: true }).click();
  await page.getByTestId('upload-state').getByText('上传中断').waitFor();
  await page.getByText(`1/${chunks} 块`).waitFor();
  await page.unroute('**/api/v1/tx/ATTACH_CHUNK');

  // A reload resumes from what the server has: only the missing chunks travel.
  let resent = 0;
  page.on('request', (r) => r.url().endsWith('/tx/ATTACH_CHUNK') && resent++);
  await page.reload();
  await page.getByTestId('upload-state').getByText('已上传完成').waitFor();
  assert.equal(resent, chunks - 1, 'only the chunks the server lacked were sent again');
  const item = page.getByTestId('attachment-item').filter({ hasText: '房屋照片' });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-sm3'), sm3);
  assert.equal(Number(await item.getAttribute('data-size')), photo.length);
  await noSideScroll(page, 'collect 1280x800');
  await shot(page, 'collect');

  // Performance: the chart is drawn; the acceptance is counted.
  await page.locator('.van-tabbar').getByText('业绩').click();
  await page.waitForURL(/#\/perf$/);
  await page.getByTestId('kpi-accepted').locator('.kv').filter({ hasText: new RegExp(`^${before.recommendations_accepted + 1}$`) }).waitFor();
  const canvas = page.getByTestId('perf-chart').locator('canvas').first();
  await canvas.waitFor();
  const box = await canvas.boundingBox();
  assert.ok(box.width > 100 && box.height > 100, `chart drawn: ${JSON.stringify(box)}`);
  await shot(page, 'perf');

  // Portrait: every screen fits the width.
  await page.setViewportSize({ width: 800, height: 1280 });
  for (const [path, ready] of [
    ['/', () => page.getByTestId('task-item').first().waitFor()],
    ['/customers?q=王', () => page.getByTestId('customer-item').first().waitFor()],
    ['/customers/new', () => page.getByPlaceholder('请输入18位身份证号码').waitFor()],
    [`/customers/${cid}`, () => page.getByTestId('rec-item').first().waitFor()],
    [`/customers/${cid}/collect`, () => page.getByTestId('attachment-item').first().waitFor()],
    ['/perf', () => page.getByTestId('perf-chart').locator('canvas').first().waitFor()],
  ]) {
    await page.goto(`${rig.url}/#${path}`);
    await ready();
    await noSideScroll(page, `${path} 800x1280`);
    if (path === '/') await shot(page, 'home-portrait');
  }
  assert.deepEqual(errors, [], 'no uncaught errors in the page');

  // The server's word: the command-line tablet, activated again (a teller has
  // one tablet: the browser's activation unbound it).
  cli.activate();
  cli.login();
  assert.ok(cli.tx('TAG_LIST', { customer_id: cid }).tags.some((t) => t.code === 'vip'), 'the tag is on the server');
  const perf = cli.tx('PERF_SUMMARY', { period: 'day' });
  assert.equal(perf.current.recommendations_accepted, before.recommendations_accepted + 1, 'the acceptance is recorded');
  assert.equal(perf.current.customers_created, before.customers_created + 1);
  assert.ok(cli.tx('RECOMMEND_LIST', { customer_id: cid, limit: 20 }).items.some((r) => r.name === product), 'the product accepted is still recommended (accepting is not holding)');
  const [att] = cli.tx('ATTACH_LIST', { customer_id: cid }).items;
  assert.equal(att.sm3, sm3);
  assert.equal(att.size, photo.length);
  assert.equal(att.chunks, chunks);
  const got = cli.tx('ATTACH_GET', { attachment_id: att.attachment_id });
  assert.equal(got.state, 'stored');
  assert.equal(got.mime, 'image/png');
  const record = cli.tx('CUSTOMER_GET', { customer_id: cid });
  assert.equal(record.name, CIS_PERSON.name);
  assert.equal(record.version, 3);
  assert.equal(record.phone, '13700001111', "the other manager's change is kept");
  assert.equal(record.address, '贵州省贵阳市南明区花果园大街12号3栋');
}
