// tablet.mjs — what the tablet's browser tests share: the client manager's
// first steps on a fresh tablet (activation with a code the CLI issues, then
// login) through the real screens, and the back-clip terminal's simulators
// (the PIN pad's key, their control ports, a Luhn-valid card number).
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD } from './rig.mjs';

/** Activates the page's tablet for teller (a code from `zhanye activation issue`) and logs in. */
export async function activateAndLogin(rig, page, teller = 'demo01') {
  const code = rig.cli('activation', 'issue', '--teller', teller).trim().split('\n').pop().trim();
  await page.goto(rig.url + '/');
  await page.getByPlaceholder('请输入柜员号').fill(teller);
  await page.getByPlaceholder('如 K7QX-9PRM').fill(code);
  await page.getByRole('button', { name: '激活' }).click();
  await page.waitForURL(/#\/login/);
  await page.locator('input[type=password]').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.hash === '#/' || u.hash === '');
}

export const sm4 = (key, block) => {
  const c = createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
};

/** A card number with prefix, unique per run, and a right Luhn check digit. */
export function luhnPan(prefix) {
  const body = prefix + String(Date.now() % 1e6).padStart(6, '0');
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return body + ((10 - (sum % 10)) % 10);
}

/** One call to a device simulator's control port; it must answer 200. */
export async function control(url, method, path, body) {
  const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(r.status, 200, `${method} ${url}${path}: ${await r.text()}`);
}

const PAD_MASTER = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'); // the PIN pad devsim's master key
const CORE_ZPK = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex'); // the core simulator's zone PIN key

/**
 * The bridge of a rig started with devices: its pairing token, the device
 * simulators' control URLs, and the PIN key loaded as the key management
 * centre would (the core's zone PIN key under the pad's master key).
 */
export async function peripherals(rig) {
  const base = Number(new URL(rig.bridgeUrl).port);
  const token = readFileSync(join(rig.data, 'bridge.token'), 'utf8').split('\n')[0].trim();
  const ctl = { idcard: `http://127.0.0.1:${base + 10}`, pin: `http://127.0.0.1:${base + 11}`, sig: `http://127.0.0.1:${base + 12}`, cardPort: base + 14 };
  const r = await fetch(rig.bridgeUrl + '/v1/pin/key', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + token },
    body: JSON.stringify({ key: sm4(PAD_MASTER, CORE_ZPK).toString('hex').toUpperCase(), kcv: sm4(CORE_ZPK, Buffer.alloc(16)).subarray(0, 4).toString('hex').toUpperCase() }),
  });
  assert.equal(r.status, 200, await r.text());
  return { token, ctl };
}
