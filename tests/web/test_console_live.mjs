// The console's Operations screens in Chromium against the real daemon (two
// downstream systems configured): prov01 logs in, opens 运行监控 → 流量控制, sees
// the live table (SSE), lowers the shared `default` rule in the edit dialog
// (a value out of range is refused in Chinese first), confirms; Node then
// sends junk to an unknown TX (decided by flow from the path, before any
// parsing: default rule), and the live screen's refused count for `default`
// climbs to what the server answered 429 for. Then 下游系统 shows the
// systems live with their breaker state, and a limit edited there is the
// one the server runs with. Screenshots: console-flow.png, console-flow-edit.png,
// console-egress.png when ZHANYE_SCREENSHOTS is set.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, PASSWORD } from './lib/rig.mjs';

const SHOTS = process.env.ZHANYE_SCREENSHOTS;
let rig;
after(async () => rig?.stop());

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: false });
}

/** A field of the rule dialog (Element Plus puts data-test on the <input> itself). */
const field = (dialog, key) => dialog.locator(`input[data-test="field-${key}"], [data-test="field-${key}"] input`).first();

/** One request the default rule decides: junk to an unknown TX. */
async function junk() {
  const r = await fetch(`${rig.apiUrl}/api/v1/tx/NOPE`, { method: 'POST', body: 'x' });
  await r.arrayBuffer();
  return r.status;
}

test('console_live', async () => {
  rig = await startRig();
  // Two downstream systems to show (never called here: their limits are what is edited).
  appendFileSync(join(rig.data, 'zhanye.conf'), '\n[egress.core]\naddress = tcp://127.0.0.1:9\n[egress.idcheck]\naddress = http://127.0.0.1:9\n');
  await rig.restart();
  const { page } = await rig.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${rig.url}/console/`);
  await page.getByPlaceholder('请输入柜员号').fill('prov01');
  await page.getByPlaceholder('请输入密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();

  await page.getByText('运行监控').first().click();
  await page.getByRole('menuitem', { name: '流量控制' }).click();
  await page.getByText('实时', { exact: true }).waitFor({ timeout: 15000 });
  const refused = page.locator('[data-test="refused-default"]');
  await refused.waitFor();
  const before = Number(await refused.textContent());

  // Admitted by flow now: the junk reaches the parser (400).
  assert.equal(await junk(), 400);

  // Edit `default`: an out-of-range value is refused in Chinese, then a real one.
  await page.locator('[data-test="edit-default"]').click();
  const dialog = page.locator('.el-dialog').filter({ hasText: '修改流控规则' });
  await dialog.waitFor();
  await field(dialog, 'rate').fill('0');
  await dialog.locator('[data-test="rule-save"]').click();
  await dialog.getByText('速率（次/秒）须在 1 到 10000000 之间').waitFor();
  await field(dialog, 'rate').fill('1');
  await field(dialog, 'burst').fill('1');
  await field(dialog, 'queue').fill('0');
  await shot(page, 'flow-edit');
  await dialog.locator('[data-test="rule-save"]').click();
  await page.getByRole('button', { name: '确认修改' }).click();
  await page.getByText('流控规则 default 已生效').waitFor();

  // Traffic: refused at once now, no restart.
  let n429 = 0;
  for (let i = 0; i < 20; i++) if ((await junk()) === 429) n429++;
  assert.ok(n429 >= 15, `only ${n429} of 20 refused`);

  // The live screen counts them within a few ticks.
  await page.waitForFunction(
    ([sel, want]) => Number(document.querySelector(sel)?.textContent) >= want,
    ['[data-test="refused-default"]', before + n429],
    { timeout: 15000 },
  );
  await page.getByText('管理台已修改').first().waitFor();
  await page.waitForTimeout(2500); // a couple of points on the chart
  await shot(page, 'flow');

  // The server runs with the console's values.
  const rules = await page.evaluate(async () => (await fetch('/api/v1/admin/flow/rules')).json());
  const def = rules.rules.find((r) => r.tx === 'default');
  assert.equal(def.values.rate, 1);
  assert.equal(def.source.rate, 'console');

  // 下游系统: live rows for the simulators, breaker tags.
  await page.getByRole('menuitem', { name: '下游系统' }).click();
  const table = page.locator('[data-test="egress-table"]');
  await table.getByText('正常').first().waitFor({ timeout: 15000 });
  const first = table.locator('.el-table__body tr').first();
  const system = (await first.locator('td').first().textContent()).trim();
  await first.getByRole('button', { name: '修改限额' }).click();
  const ed = page.locator('.el-dialog').filter({ hasText: '修改下游限额' });
  await ed.waitFor();
  await ed.locator('input').first().fill('5');
  await ed.getByRole('button', { name: '保存并立即生效' }).click();
  await page.getByRole('button', { name: '确认修改' }).click();
  await page.getByText(`${system} 的限额已生效`).waitFor();
  await table.getByText('/ 5').first().waitFor({ timeout: 10000 });
  await shot(page, 'egress');
  const eg = await page.evaluate(async () => (await fetch('/api/v1/admin/egress')).json());
  assert.equal(eg.systems[system].max_concurrent, 5);
});
