// Roles on the console in a real browser against the real daemon with the
// demo's data: prov01, admin01 and mgr01 each log in and see the menu their
// role allows; admin01 and mgr01 never see anything of bank B02 (its code,
// name, branches, tellers) in the text of any page, the dropdowns included
// (document text, hidden options too), and mgr01 none of branch 02 in the
// back office; prov01 sees both banks. A client manager (demo01) cannot log
// in, with the very message of a wrong password. admin01 issues an
// activation code for demo02 in the console (the QR slip shows it), the
// real ZY1 client (`zhanye call --activate`) activates a tablet with it, and
// the device shows on the console's 设备 page; a second code, cancelled on
// its slip (作废此码), activates nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startRig, BIN, PASSWORD } from './lib/rig.mjs';
import { consoleLogin, consoleGo, consoleUrl, shot } from './lib/console.mjs';

const DESKTOP = { viewport: { width: 1440, height: 900 } };
const PAGES = ['/org/banks', '/org/branches', '/org/tellers', '/org/devices', '/org/tickets', '/ops/audit', '/ana/performance', '/ana/customers', '/back/customers', '/back/visits', '/back/business'];
const B02 = ['B02', '绿水农信社', '南湖支行', '北岭支行', 'demo03', 'demo04', 'admin02', 'mgr02', '王建国', '赵丽华'];
const BRANCH02 = ['河东支行', 'demo02'];

/** The whole text of the page, hidden dropdown options included. */
async function pageText(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300);
  return page.evaluate(() => document.body.textContent);
}

function noneOf(text, words, where) {
  for (const w of words) assert.ok(!text.includes(w), `${where}: "${w}" must not show`);
}

async function menu(page) {
  return page.locator('.el-menu--vertical').first().textContent();
}

test('console roles', { timeout: 280000 }, async () => {
  const rig = await startRig();
  try {
    // --- province: everything, both banks
    {
      const { page, context } = await rig.newPage(DESKTOP);
      await consoleLogin(rig, page, 'prov01');
      const m = await menu(page);
      for (const t of ['法人行', '下游系统', '审计日志', '客户查询', '走访记录', '业务查询']) assert.ok(m.includes(t), `prov01 menu: ${t}`);
      await consoleGo(rig, page, '/back/customers');
      const text = await pageText(page);
      assert.ok(text.includes('B01') && text.includes('B02'), 'the province sees both banks');
      await context.close();
    }
    // --- bank admin and branch manager: nothing of B02 anywhere
    for (const who of ['admin01', 'mgr01']) {
      const { page, context } = await rig.newPage(DESKTOP);
      await consoleLogin(rig, page, who);
      const m = await menu(page);
      assert.ok(!m.includes('下游系统'), `${who}: no 下游系统`);
      for (const t of ['客户查询', '走访记录', '业务查询']) assert.ok(m.includes(t), `${who} menu: ${t}`);
      for (const p of PAGES) {
        await consoleGo(rig, page, p);
        // open every select so that its options are rendered
        for (const sel of await page.locator('.el-select:visible').all()) {
          await sel.click().catch(() => {});
          await page.keyboard.press('Escape').catch(() => {});
        }
        const text = await pageText(page);
        noneOf(text, B02, `${who} ${p}`);
        if (p === '/back/customers') assert.ok(text.includes('B01') && text.includes('城关支行'), `${who}: the list shows their own`);
        if (who === 'mgr01' && p.startsWith('/back/')) noneOf(text, BRANCH02, `${who} ${p}`);
      }
      await shot(page, `roles-${who}`);
      await context.close();
    }
    // --- a client manager cannot log in: the wrong password's message
    {
      const { page, context } = await rig.newPage(DESKTOP);
      const fail = async (teller, pw) => {
        await page.goto(consoleUrl(rig));
        await page.getByPlaceholder('请输入柜员号').fill(teller);
        await page.getByPlaceholder('请输入密码').fill(pw);
        await page.getByRole('button', { name: '登录' }).click();
        const a = page.locator('.el-alert--error');
        await a.waitFor();
        return (await a.textContent()).trim();
      };
      const cm = await fail('demo01', PASSWORD);
      const wrong = await fail('admin01', 'Wrong@2026x');
      assert.equal(cm, wrong);
      assert.ok(cm.includes('柜员号或密码错误'));
      await context.close();
    }
    // --- an activation code from the console, used by the real ZY1 client
    {
      const { page, context } = await rig.newPage(DESKTOP);
      await consoleLogin(rig, page, 'admin01');
      await consoleGo(rig, page, '/org/tickets');
      await page.locator('.el-select').first().click();
      await page.getByRole('option', { name: /demo02/ }).click();
      await page.getByRole('button', { name: '签发' }).click();
      const codeEl = page.getByTestId('ticket-code');
      await codeEl.waitFor();
      const code = (await codeEl.textContent()).trim();
      assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
      await page.locator('#slip img').waitFor();
      await shot(page, 'ticket');
      const state = join(rig.dir, 'tablet.json');
      execFileSync(BIN, ['call', '--state', state, '--server', rig.apiUrl, '--activate', code, '--teller', 'demo02'], { encoding: 'utf8' });
      await page.keyboard.press('Escape');
      await consoleGo(rig, page, '/org/devices');
      const row = page.locator('.el-table__body tr').filter({ hasText: 'demo02' });
      await row.first().waitFor({ timeout: 15000 });
      assert.ok((await row.first().textContent()).includes('在用'));
      await shot(page, 'devices');
      // A second slip, lost: 作废此码 withdraws it, and the ZY1 client cannot use it.
      await consoleGo(rig, page, '/org/tickets');
      await page.locator('.el-select').first().click();
      await page.getByRole('option', { name: /demo02/ }).click();
      await page.getByRole('button', { name: '签发' }).click();
      await codeEl.waitFor();
      const lost = (await codeEl.textContent()).trim();
      await page.getByRole('button', { name: '作废此码' }).click();
      await page.getByRole('button', { name: '作废', exact: true }).click();
      await page.getByText('激活码已作废').waitFor();
      assert.throws(() => execFileSync(BIN, ['call', '--state', join(rig.dir, 'tablet2.json'), '--server', rig.apiUrl, '--activate', lost, '--teller', 'demo02'], { encoding: 'utf8', stdio: 'pipe' }));
      await context.close();
    }
  } finally {
    await rig.stop();
  }
});
