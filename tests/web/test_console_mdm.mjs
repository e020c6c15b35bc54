// The console's device management (设备管理) in a real browser against the
// real daemon: a bank admin saves a policy through the form (the server has
// the new version); a device (the reference agent, `zhanye call
// --checkin-loop`) checks in and shows as 合规 with its app version; the
// admin sends it a wipe through the confirmation dialog; the agent's next
// check-in executes and acknowledges it and the commands page shows 已完成;
// a policy value the server refuses is shown in plain Chinese naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, BIN, PASSWORD } from './lib/rig.mjs';
import { consoleLogin, consoleGo, api, shot } from './lib/console.mjs';

const DESKTOP = { viewport: { width: 1440, height: 900 } };
const REPORT = { os: 'Android 12', app_version: '1.3.0', apps: [], security: { rooted: false, usb_debug: false, screen_lock: true, encrypted: true } };

test('console device management', { timeout: 240000 }, async () => {
  const rig = await startRig();
  try {
    // A device of demo01: the reference agent, activated and logged in.
    const state = join(rig.dir, 'agent.json');
    const report = join(rig.dir, 'report.json');
    writeFileSync(report, JSON.stringify(REPORT));
    const code = rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim();
    const call = (...args) => execFileSync(BIN, ['call', '--state', state, ...args], { encoding: 'utf8' });
    call('--server', rig.url, '--activate', code, '--teller', 'demo01');
    call('LOGIN', '--data', JSON.stringify({ teller: 'demo01', password: PASSWORD }));
    const dev = JSON.parse(execFileSync('cat', [state], { encoding: 'utf8' })).dev;
    assert.match(call('--checkin-loop', '1', '--report', report), /checkin compliant=true/);

    const { page } = await rig.newPage(DESKTOP);
    await consoleLogin(rig, page, 'admin01');

    // --- the policy form
    await consoleGo(rig, page, '/mdm/policy');
    await page.getByText('当前版本：0（系统默认）').waitFor();
    const offline = page.locator('.el-form-item').filter({ hasText: '最长离线天数' }).locator('input');
    await offline.fill('3');
    await page.getByRole('button', { name: '保存策略' }).click();
    await page.getByRole('button', { name: '确定' }).click();
    await page.getByText('策略已保存（版本 1）').waitFor();
    let r = await api(page, 'GET', '/mdm/policy');
    assert.equal(r.json.policy.version, 1);
    assert.equal(r.json.policy.rules.max_offline_days, 3);
    await shot(page, 'mdm-policy');
    // A value the server refuses: named, in plain Chinese, nothing stored.
    await page.locator('.el-form-item').filter({ hasText: '最低系统版本' }).locator('input').fill('最新');
    await page.getByRole('button', { name: '保存策略' }).click();
    await page.getByRole('button', { name: '确定' }).click();
    await page.getByText(/rules\.min_os: 须为含数字的版本号/).waitFor();
    r = await api(page, 'GET', '/mdm/policy');
    assert.equal(r.json.policy.version, 1);

    // --- the devices with their compliance; a wipe sent with confirmation
    await consoleGo(rig, page, '/mdm/devices');
    const row = page.locator('.mdm-devices .el-table__body tr').filter({ hasText: dev });
    await row.waitFor();
    await row.locator('.badge').filter({ hasText: '合规' }).waitFor();
    assert.ok((await row.innerText()).includes('1.3.0'), 'the app version of the check-in');
    await shot(page, 'mdm-devices');
    await row.getByRole('button', { name: '发送指令' }).click();
    await page.getByRole('menuitem', { name: '清除数据' }).click();
    await page.getByText('发送指令：清除数据').waitFor();
    await page.getByRole('button', { name: '确定发送' }).click();
    await page.getByText('指令已发送').waitFor();
    r = await api(page, 'GET', `/mdm/commands?dev=${dev}`);
    assert.equal(r.json.commands[0].kind, 'wipe');
    assert.equal(r.json.commands[0].state, 'queued');

    // --- the agent executes it; the commands page shows it done
    const out = call('--checkin-loop', '1', '--report', report);
    assert.match(out, /agent: command \d+ wipe/);
    assert.match(out, /agent: ack \d+ done: OK/);
    await consoleGo(rig, page, '/mdm/commands');
    const cmd = page.locator('.mdm-commands .el-table__body tr').filter({ hasText: dev });
    await cmd.first().waitFor();
    await cmd.first().locator('.state').filter({ hasText: '已完成' }).waitFor();
    assert.ok((await cmd.first().innerText()).includes('清除数据'));
    await shot(page, 'mdm-commands');

    // --- B02's admin sees none of it
    const { page: p2 } = await rig.newPage(DESKTOP);
    await consoleLogin(rig, p2, 'admin02');
    r = await api(p2, 'POST', '/mdm/commands', { dev, kind: 'lock' });
    assert.equal(r.status, 404);
  } finally {
    await rig.stop();
  }
});
