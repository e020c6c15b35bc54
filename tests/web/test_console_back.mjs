// The console's back office in a real browser against the real daemon with
// the demo's data: a bank admin finds a demo customer and opens it (full ID
// number on the detail only); opens a completed demo business with its
// steps and its voucher (验签通过, the PDF embedded); a branch manager
// reassigns an open visit task and the visit list shows the new manager.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRig } from './lib/rig.mjs';
import { consoleLogin, consoleGo, api, shot } from './lib/console.mjs';

const DESKTOP = { viewport: { width: 1440, height: 900 } };

test('console back office', { timeout: 240000 }, async () => {
  const rig = await startRig();
  try {
    // --- customers, as admin01
    const { page } = await rig.newPage(DESKTOP);
    await consoleLogin(rig, page, 'admin01');
    await consoleGo(rig, page, '/back/customers');
    const rows = page.locator('.customers .el-table__body tr');
    await rows.first().waitFor();
    const name = (await rows.first().locator('td').nth(2).innerText()).trim();
    const masked = (await rows.first().locator('td').nth(4).innerText()).trim();
    assert.match(masked, /\*/, 'the list masks the ID number');
    await page.getByPlaceholder(/姓名/).fill(name.slice(0, 1));
    await page.getByRole('button', { name: '查询' }).click();
    await page.waitForLoadState('networkidle');
    assert.ok((await page.locator('.customers').innerText()).includes(name), 'the search finds the customer');
    await rows.filter({ hasText: name }).first().getByRole('button', { name: '查看' }).click();
    const drawer = page.locator('.customer-detail');
    await drawer.waitFor();
    const detail = await drawer.innerText();
    assert.ok(detail.includes(name));
    assert.ok(detail.includes('记入审计日志'));
    if (masked.length === 18) assert.match(detail, /\d{17}[\dX]/, 'the detail shows the full ID number');
    await shot(page, 'customers');
    await page.keyboard.press('Escape');

    // --- a business with its steps and voucher
    await consoleGo(rig, page, '/back/business');
    const biz = page.locator('.businesses .el-table__body tr').filter({ hasText: '已完成' });
    await biz.first().waitFor();
    await biz.first().getByRole('button', { name: '详情' }).click();
    const bd = page.locator('.business-detail');
    await bd.waitFor();
    await bd.locator('.steps').waitFor();
    const text = await bd.innerText();
    assert.ok(text.includes('读取身份证'), 'the steps timeline');
    assert.ok(text.includes('验签通过'), 'the voucher verifies');
    assert.ok(!/pin_block/.test(text));
    await bd.locator('iframe.pdf').waitFor({ timeout: 20000 });
    await bd.locator('.voucher').scrollIntoViewIfNeeded();
    await shot(page, 'business');
    await page.context().close();

    // --- reassign a task, as mgr01 (B01 branch 01)
    const { page: m } = await rig.newPage(DESKTOP);
    await consoleLogin(rig, m, 'mgr01');
    let r = await api(m, 'POST', '/tellers', { code: 'demo05', name: '钱小华', role: 'client_manager', password: 'Zhanye@2026' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    r = await api(m, 'GET', '/customers');
    const cid = r.json.customers[0].customer_id;
    r = await api(m, 'POST', '/visits/tasks', { teller: 'demo01', customer_id: cid, note: '改派测试' });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const taskId = r.json.task.task_id;
    await consoleGo(rig, m, '/back/visits');
    const task = m.locator('.tasks .el-table__body tr').filter({ hasText: '改派测试' }).first();
    await task.waitFor();
    assert.ok((await task.innerText()).includes('demo01'));
    await task.getByRole('button', { name: '改派' }).click();
    await m.locator('.reassign-to').click();
    await m.getByRole('option', { name: '钱小华（demo05）' }).click();
    await m.getByRole('button', { name: '确定改派' }).click();
    await m.getByText('任务已改派').waitFor();
    await m.waitForLoadState('networkidle');
    await m.waitForFunction((id) => [...document.querySelectorAll('.tasks .el-table__body tr')].some((tr) => tr.innerText.includes('改派测试') && tr.innerText.includes('demo05') && tr.innerText.startsWith(String(id))), taskId, { timeout: 15000 });
    await shot(m, 'visits');
  } finally {
    await rig.stop();
  }
});
