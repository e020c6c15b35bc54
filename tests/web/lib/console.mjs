// console.mjs — helpers for the management console's browser tests: log in
// through the login page, go to a page of the side menu, call the management
// API with the page's own session (cookie + CSRF), save screenshots.
import { join } from 'node:path';
import { PASSWORD } from './rig.mjs';

export const consoleUrl = (rig) => `${rig.url}/console/`;

/** Logs teller in through the login page; resolves once the menu shows. */
export async function consoleLogin(rig, page, teller, password = PASSWORD) {
  await page.goto(consoleUrl(rig));
  await page.getByPlaceholder('请输入柜员号').fill(teller);
  await page.getByPlaceholder('请输入密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('.el-menu--vertical').first().waitFor({ timeout: 20000 });
}

/** Opens a console page by its route (hash history). */
export async function consoleGo(rig, page, path) {
  await page.goto(`${consoleUrl(rig)}#${path}`);
  await page.waitForLoadState('networkidle');
}

/** The management API with the page's session: GET, or POST with the CSRF token. */
export async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const me = await (await fetch('/api/v1/admin/me', { credentials: 'same-origin' })).json();
      const r = await fetch(`/api/v1/admin${path}`, {
        method,
        credentials: 'same-origin',
        headers: method === 'POST' ? { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token } : {},
        body: method === 'POST' ? JSON.stringify(body || {}) : undefined,
      });
      return { status: r.status, json: await r.json().catch(() => null) };
    },
    { method, path, body },
  );
}

/** A screenshot into $ZHANYE_SCREENSHOTS when it is set. */
export async function shot(page, name) {
  if (!process.env.ZHANYE_SCREENSHOTS) return;
  // The toasts of earlier steps would cover the page: a picture shows the page itself.
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((e) => e.remove()));
  await page.screenshot({ path: join(process.env.ZHANYE_SCREENSHOTS, `console-${name}.png`), fullPage: false });
}
