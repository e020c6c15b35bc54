// web_video.mjs — remote video call setup on loopback (docs/api.md §1.40):
// the real daemon (ZHANYE_BIN) with the demo, Debian's Chromium with fake
// media devices, a tablet page (demo01) and the console's agent page
// (agent01, already on its desk). The agent takes a call as soon as it
// shows; the time runs from the tablet's 远程协助 click (VIDEO_CALL_REQUEST)
// to the tablet's first decoded video frame. Median over RUNS calls (each
// hung up before the next). Prints `video_call_setup_ms X`.
// Run: ZHANYE_BIN=build/zhanye node bench/web_video.mjs
import { startRig, PASSWORD } from '../tests/web/lib/rig.mjs';

const RUNS = Number(process.env.RUNS || 5);
const MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection'];

const rig = await startRig({ chromiumArgs: MEDIA });
try {
  const { page: tab } = await rig.newPage({ permissions: ['camera', 'microphone'] });
  await tab.goto(`${rig.url}/`);
  await tab.getByPlaceholder('请输入柜员号').fill('demo01');
  await tab.getByPlaceholder('如 K7QX-9PRM').fill(rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim());
  await tab.getByRole('button', { name: '激活' }).click();
  await tab.waitForURL(/#\/login$/);
  await tab.locator('input[type=password]').fill(PASSWORD);
  await tab.getByRole('button', { name: '登录' }).click();
  await tab.waitForURL(/#\/$/);

  const { page: con } = await rig.newPage({ viewport: { width: 1440, height: 900 }, permissions: ['camera', 'microphone'] });
  await con.goto(`${rig.url}/console/`);
  await con.getByPlaceholder('请输入柜员号').fill('agent01');
  await con.getByPlaceholder('请输入密码').fill(PASSWORD);
  await con.getByRole('button', { name: '登录' }).click();
  await con.waitForURL(/#\/video\/desk$/);

  const times = [];
  for (let i = 0; i < RUNS; i++) {
    await tab.goto(`${rig.url}/#/customers/1`);
    const button = tab.getByRole('link', { name: '远程协助' }).or(tab.getByRole('button', { name: '远程协助' })).first();
    await button.waitFor();
    const t0 = Date.now();
    await button.click();
    const take = con.getByRole('button', { name: '接听下一位' });
    await con.getByTestId('waiting').filter({ hasText: '1' }).waitFor({ timeout: 30000 });
    await take.click();
    await tab.waitForFunction(
      async () => {
        const pc = window.__zyVideoPc;
        if (!pc) return false;
        let frames = 0;
        (await pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
        });
        return frames > 0;
      },
      null,
      { timeout: 60000, polling: 20 },
    );
    times.push(Date.now() - t0);
    await tab.getByRole('button', { name: '挂断' }).click();
    await tab.getByTestId('video-ended').waitFor();
    await con.getByRole('button', { name: '关闭' }).click({ timeout: 30000 });
  }
  times.sort((a, b) => a - b);
  console.log(`video_call_setup_ms ${times[Math.floor(times.length / 2)]}`);
} finally {
  await rig.stop();
}
