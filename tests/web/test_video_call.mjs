// video_call: remote video assistance end to end (docs/tablet.md "Remote
// video", docs/console.md "远程协助") on the real daemon with Debian's
// Chromium and fake media devices: a client manager asks for help from a
// customer's profile, waits in the bank's queue, the bank's video agent
// (agent01) takes the call in the console; both browsers' RTCPeerConnections
// reach `connected` and decode frames. Then the tablet's network is cut
// mid-call: after the reconnect window the call ends cleanly, the agent's
// screen says 网络中断 and the record's outcome is `dropped`; back online,
// the tablet says so too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, PASSWORD } from './lib/rig.mjs';

const SHOTS = process.env.ZHANYE_SCREENSHOTS;
const MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'];
let rig;
after(async () => rig?.stop());

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** The page's RTCPeerConnection (window.__zyVideoPc) is connected and has decoded video frames. */
function receivingFrames(page) {
  return page.waitForFunction(
    async () => {
      const pc = window.__zyVideoPc;
      if (!pc || pc.connectionState !== 'connected') return false;
      const stats = await pc.getStats();
      let frames = 0;
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
      });
      return frames > 0;
    },
    null,
    { timeout: 60000, polling: 250 },
  );
}

test('video_call', async () => {
  rig = await startRig({ chromiumArgs: MEDIA });
  appendFileSync(join(rig.data, 'zhanye.conf'), '\n[video]\nreconnect_window_s = 4\n');
  await rig.restart();

  // The tablet: demo01, activated and logged in.
  const { page: tab } = await rig.newPage({ permissions: ['camera', 'microphone'] });
  const errors = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  await tab.goto(`${rig.url}/`);
  await tab.getByPlaceholder('请输入柜员号').fill('demo01');
  await tab.getByPlaceholder('如 K7QX-9PRM').fill(rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim());
  await tab.getByRole('button', { name: '激活' }).click();
  await tab.waitForURL(/#\/login$/);
  await tab.locator('input[type=password]').fill(PASSWORD);
  await tab.getByRole('button', { name: '登录' }).click();
  await tab.waitForURL(/#\/$/);

  // From a customer's profile: 远程协助 -> the queue screen.
  await tab.goto(`${rig.url}/#/customers/1`);
  await tab.getByRole('link', { name: '远程协助' }).or(tab.getByRole('button', { name: '远程协助' })).first().click();
  await tab.getByTestId('video-queue').waitFor();
  await tab.getByTestId('queue-position').filter({ hasText: '1' }).waitFor();
  await tab.getByText('预计等待约').waitFor();
  await shot(tab, 'tablet-video-queue');

  // The agent: agent01 of B01 lands on its desk and sees the call waiting.
  const { page: con } = await rig.newPage({ viewport: { width: 1440, height: 900 }, permissions: ['camera', 'microphone'] });
  con.on('pageerror', (e) => errors.push(String(e)));
  await con.goto(`${rig.url}/console/`);
  await con.getByPlaceholder('请输入柜员号').fill('agent01');
  await con.getByPlaceholder('请输入密码').fill(PASSWORD);
  await con.getByRole('button', { name: '登录' }).click();
  await con.waitForURL(/#\/video\/desk$/);
  await con.getByTestId('stream-state').filter({ hasText: '在线' }).waitFor({ timeout: 15000 });
  await con.getByTestId('waiting').filter({ hasText: '1' }).waitFor();
  await con.getByTestId('queue-item').filter({ hasText: 'demo01' }).waitFor();
  await shot(con, 'console-video-queue');
  await con.getByRole('button', { name: '接听下一位' }).click();

  // Both sides connect and receive frames.
  await tab.getByTestId('video-call').waitFor({ timeout: 30000 });
  await receivingFrames(con);
  await receivingFrames(tab);
  await con.getByTestId('call-state').filter({ hasText: '通话中' }).waitFor({ timeout: 15000 });
  await tab.getByTestId('call-state').filter({ hasText: '通话中' }).waitFor({ timeout: 15000 });
  assert.match(await con.getByTestId('ctx-customer').textContent(), /\*/, 'the customer name is masked');
  assert.equal(rig.sql("SELECT state FROM video_calls WHERE bank_id = (SELECT id FROM banks WHERE code = 'B01') ORDER BY id DESC LIMIT 1"), 'connected');
  await shot(tab, 'tablet-video-call');
  await shot(con, 'console-video-call');

  // The tablet's network is cut mid-call: its polls stop; after the window
  // the call ends `dropped`, and the agent's screen says so.
  await tab.context().setOffline(true);
  await con.getByTestId('call-state').filter({ hasText: '已结束' }).waitFor({ timeout: 60000 });
  await con.getByTestId('call-outcome').filter({ hasText: '网络中断' }).waitFor();
  assert.equal(await con.evaluate(() => window.__zyVideoPc), null, 'the agent closed its peer connection');
  assert.equal(rig.sql("SELECT outcome || ',' || end_reason FROM video_calls WHERE bank_id = (SELECT id FROM banks WHERE code = 'B01') ORDER BY id DESC LIMIT 1"), 'dropped,tablet_silent');
  await shot(con, 'console-video-dropped');

  // Back online, the tablet learns it from the server.
  await tab.context().setOffline(false);
  await tab.getByTestId('video-outcome').filter({ hasText: '网络中断，通话已结束' }).waitFor({ timeout: 30000 });

  // The record is in the agent's call list.
  await con.getByRole('button', { name: '关闭' }).click();
  await con.getByRole('menuitem', { name: '通话记录' }).click();
  await con.locator('.calls').getByText('网络中断').first().waitFor();
  assert.deepEqual(errors, []);
});
