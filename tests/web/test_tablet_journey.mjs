// A client manager's day in one piece, in Chromium against the real platform,
// the bank-system simulators and the peripherals (issue 14's journey):
// activation -> login -> pairing the back-clip terminal -> a new customer
// prefilled from the CIS -> a visit check-in with the tablet's position ->
// the visit on the customer's profile -> feedback on a recommendation -> a debit card opened for that customer with
// the ID card, PIN pad and signature pad simulators -> the electronic
// voucher, shown and verified. Each step is checked where it lands: the
// daemon's database (the visit, the feedback, the business) and its CLI (the
// voucher), not only the screen; and the page's Content-Security-Policy
// refused nothing along the way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRig } from './lib/rig.mjs';
import { activateAndLogin, control, luhnPan, peripherals } from './lib/tablet.mjs';

// The CIS simulator's person (sims/sim_cis.c); the ID card in the reader is hers.
const PERSON = { id_no: '520102197805050024', name: '杨玉梅', phone: '18985000024' };
const CARD = { name: PERSON.name, sex_code: '2', nation_code: '01', birth: '19780505', id_no: PERSON.id_no, address: '贵州省贵阳市南明区花果园大街12号', issuer: '贵阳市公安局南明分局', valid_from: '20200101', valid_to: '20400101' };
const HOME = { latitude: 26.5623, longitude: 106.7126 };

let rig, page, token, ctl;

const sql = (q) => rig.sql(q);
const atStep = (n, title) => page.getByRole('heading', { name: `第 ${n} 步：${title}` }).waitFor({ timeout: 30000 });
async function submitStep(title) {
  await page.getByRole('heading', { name: new RegExp(`：${title}$`) }).waitFor();
  await page.getByRole('button', { name: '提交', exact: true }).click();
}

before(async () => {
  // The simulators' port blocks are chosen free, but another session may take one meanwhile.
  for (let attempt = 1; !rig; attempt++) {
    try {
      rig = await startRig({ sims: true, devices: true });
    } catch (e) {
      if (attempt === 4) throw e;
      console.log(`# rig did not start (${e.message}), trying again`);
    }
  }
  ({ token, ctl } = await peripherals(rig));
  ({ page } = await rig.newPage({ geolocation: HOME, permissions: ['geolocation'] }));
});

after(async () => rig && (await rig.stop()));

test('activation, login, new customer with prefill, check-in, recommendation feedback, debit card, voucher', async () => {
  try {
    await journey();
  } catch (e) {
    if (process.env.ZHANYE_FAILSHOT) await page.screenshot({ path: process.env.ZHANYE_FAILSHOT, fullPage: true }).catch(() => {});
    throw e;
  }
});

async function journey() {
  // Nothing the app needs may be refused by its own Content-Security-Policy
  // (an icon font, a worker, the voucher's PDF frame): Chromium reports each
  // refusal on the console. Third-party addresses are refused on purpose (a
  // village has no internet; Vant names a CDN font as a fallback of its
  // inlined one).
  const refused = [];
  const thirdParty = (t) => /'https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])[^']+'/.test(t);
  page.on('console', (m) => /Content Security Policy/.test(m.text()) && !thirdParty(m.text()) && refused.push(m.text()));

  // Activation with a code issued for demo01, then login.
  await activateAndLogin(rig, page, 'demo01');

  // Pairing the back-clip terminal's bridge once.
  await page.goto(rig.url + '/#/settings/devices');
  await page.getByPlaceholder('http://127.0.0.1:19300').fill(rig.bridgeUrl);
  await page.getByPlaceholder('请输入或粘贴配对令牌').fill(token);
  await page.getByRole('button', { name: '配对', exact: true }).click();
  await page.getByText('已配对', { exact: true }).waitFor();

  // A new customer, prefilled from the CIS.
  await page.goto(rig.url + '/#/customers/new');
  await page.getByPlaceholder('请输入18位身份证号码').fill(PERSON.id_no);
  await page.getByRole('button', { name: '查询客户信息' }).click();
  await page.getByText('已从客户信息系统带出客户信息').waitFor();
  assert.equal(await page.getByPlaceholder('请输入客户姓名').inputValue(), PERSON.name);
  await page.getByRole('button', { name: '保存并建档' }).click();
  await page.waitForURL(/#\/customers\/\d+$/);
  const cid = Number(page.url().match(/customers\/(\d+)$/)[1]);
  assert.equal(sql(`SELECT count(*) FROM customers WHERE id = ${cid}`), '1');

  // A visit check-in from the profile, with the tablet's position.
  await page.getByRole('button', { name: '走访签到' }).first().click();
  await page.waitForURL(/#\/visit\/checkin/);
  await page.getByText(/^26\.562/).waitFor();
  await page.getByRole('radio', { name: '有意向' }).click();
  await page.getByPlaceholder('请填写走访情况（客户需求、反馈等）').fill('客户想办一张借记卡');
  await page.getByRole('button', { name: '签到' }).click();
  await page.getByText('签到成功').waitFor({ timeout: 60000 });
  assert.equal(sql(`SELECT count(*) FROM visits WHERE customer_id = ${cid}`), '1', 'one check-in recorded');

  // The profile shows the visit (VISIT_HISTORY), as made by this manager.
  await page.goto(`${rig.url}/#/customers/${cid}`);
  const visit = page.getByTestId('visit-item').first();
  await visit.getByText(/有意向/).waitFor();
  await visit.getByText('客户想办一张借记卡').waitFor();
  await visit.getByText('我', { exact: true }).waitFor();
  assert.equal(await page.getByTestId('visit-item').count(), 1);

  // Feedback on a recommendation, on the profile.
  const rec = page.getByTestId('rec-item').first();
  await rec.waitFor();
  await rec.getByRole('button', { name: '接受' }).click();
  await rec.getByText('接受 · 已记录').waitFor();
  await page.waitForFunction(() => true); // the outbox sends in the background: wait for the server below
  for (let i = 0; sql(`SELECT count(*) FROM recommend_feedback WHERE customer_id = ${cid}`) !== '1'; i++) {
    assert.ok(i < 300, 'the feedback reached the server');
    await new Promise((r) => setTimeout(r, 100));
  }

  // A debit card for her, from the profile's customer: her ID card in the reader.
  await control(ctl.idcard, 'POST', '/card', CARD);
  await page.goto(`${rig.url}/#/biz/new?kind=debit_card&customer=${cid}`);
  await page.getByRole('button', { name: '开始办理' }).click();
  await page.waitForURL(/#\/biz\/\d{14}$/);
  const bizNo = page.url().split('/biz/')[1];
  await atStep(1, '读取身份证');
  await page.getByRole('button', { name: '读取身份证' }).click();
  await page.getByText(CARD.id_no).waitFor();
  await submitStep('读取身份证');
  await atStep(2, '联网核查');
  await page.getByRole('button', { name: '发起联网核查' }).click();
  await atStep(3, '人脸识别');
  await page.getByLabel('拍摄客户照片').setInputFiles({ name: 'face.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('FACE:' + CARD.id_no) });
  await page.getByText(/已拍摄/).waitFor();
  await submitStep('人脸识别');
  await atStep(4, '客户信息');
  const phone = page.getByPlaceholder('请输入 11 位手机号');
  if (!(await phone.inputValue())) await phone.fill(PERSON.phone);
  await submitStep('客户信息');
  await atStep(5, '开立账户');
  await page.getByRole('button', { name: '开立账户' }).click();
  await atStep(6, '绑定银行卡');
  await page.getByRole('button', { name: '手工输入卡号' }).click();
  await page.getByPlaceholder('请输入银行卡号').fill(luhnPan('622848012'));
  await submitStep('绑定银行卡');
  await atStep(7, '设置密码');
  await control(ctl.pin, 'POST', '/reset');
  await control(ctl.pin, 'POST', '/script', { pin: '369258' });
  await page.getByRole('button', { name: '请客户在密码键盘输入密码' }).click();
  await atStep(8, '客户签名');
  await control(ctl.sig, 'POST', '/reset');
  await control(ctl.sig, 'POST', '/script', { strokes: [Array.from({ length: 30 }, (_, i) => [50 + 9 * i, 80 + 2 * i, 500])] });
  await page.getByRole('button', { name: '请客户在签名板签名' }).click();
  await page.getByAltText('客户签名').waitFor();
  await submitStep('客户签名');
  await atStep(9, '生成电子凭证');
  await page.getByRole('button', { name: '生成电子凭证' }).click();
  await page.getByText('业务办理完成').waitFor({ timeout: 30000 });
  assert.equal(sql(`SELECT status FROM biz WHERE biz_no = '${bizNo}'`), 'completed');

  // The voucher: shown, verified on the tablet, and issued by the platform.
  await page.getByRole('button', { name: '查看电子凭证' }).click();
  await page.waitForURL(/#\/voucher\/V\d+-\d+$/);
  await page.getByText('验签通过').waitFor({ timeout: 30000 });
  const vid = decodeURIComponent(page.url().split('/voucher/')[1]);
  assert.match(rig.cli('voucher', 'list'), new RegExp(vid));
  assert.deepEqual(refused, [], 'the CSP refused nothing');
}
