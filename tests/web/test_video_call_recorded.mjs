// video_call_recorded: a recorded call (双录) through both halves, with real
// parts: a real Janus (scripts/janus-run.sh), the real daemon with the demo's
// data and its watcher thread, Debian's Chromium with fake camera and
// microphone. The client manager opens 远程协助 on an agency business: the
// consent notice comes first (its text and version; 客户同意录音录像);
// the agent (agent01) takes the call; both P2P connections reach
// `connected` with frames; both browsers then join the call's Janus room
// (VIDEO_RECORD_JOIN, POST …/video/record-join) and show 录制中; the
// tablet hangs up; the watcher stores the recording; the bank admin lists
// it with the call's business and consent, and the played bytes of each
// track hash (SM3) to the stored track hashes, whose manifest is the
// recording's hash.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, PASSWORD, sleep } from './lib/rig.mjs';
import { startJanus } from './lib/janus.mjs';
import { consoleLogin, api } from './lib/console.mjs';

const SHOTS = process.env.ZHANYE_SCREENSHOTS;
const MEDIA = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
const sm3 = (buf) => createHash('sm3').update(buf).digest('hex');
let rig;
let janus;
after(async () => {
  await rig?.stop();
  await janus?.stop();
});

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** The page's P2P connection (window.__zyVideoPc) is connected and decodes video frames. */
function receivingFrames(page) {
  return page.waitForFunction(
    async () => {
      const pc = window.__zyVideoPc;
      if (!pc || pc.connectionState !== 'connected') return false;
      let frames = 0;
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0;
      });
      return frames > 0;
    },
    null,
    { timeout: 60000, polling: 250 },
  );
}

/** The page's recording leg (window.__zyRecPc) is connected and has sent video frames. */
function sendingToJanus(page) {
  return page.waitForFunction(
    async () => {
      const pc = window.__zyRecPc;
      if (!pc || pc.connectionState !== 'connected') return false;
      let frames = 0;
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'outbound-rtp' && r.kind === 'video') frames += r.framesEncoded || 0;
      });
      return frames > 10;
    },
    null,
    { timeout: 60000, polling: 250 },
  );
}

/** GET of the playback endpoint from the page's session: status and bytes. */
async function fetchPlay(page, query) {
  const r = await page.evaluate(async (query) => {
    const res = await fetch(`/api/v1/admin/recordings/play?${new URLSearchParams(query)}`);
    const b = new Uint8Array(await res.arrayBuffer());
    let s = '';
    for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
    return { status: res.status, b64: btoa(s) };
  }, query);
  return { status: r.status, bytes: Buffer.from(r.b64, 'base64') };
}

test('video_call_recorded', { timeout: 280000 }, async () => {
  janus = await startJanus();
  rig = await startRig({ chromiumArgs: MEDIA, extraConf: janus.conf });
  const B01 = "(SELECT id FROM banks WHERE code = 'B01')";
  const [bizId, bizNo, customer] = rig.sql(`SELECT id || '|' || biz_no || '|' || customer_id FROM biz WHERE bank_id = ${B01} AND kind = 'agency' ORDER BY id LIMIT 1`).split('|');
  assert.ok(bizId && bizNo, 'the demo has an agency business');

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

  // 远程协助 on the agency business: the consent notice first.
  await tab.goto(`${rig.url}/#/video?biz=${bizId}&biz_no=${bizNo}&customer=${customer}&record=1`);
  await tab.getByTestId('video-consent').waitFor();
  await tab.getByText('双录').first().waitFor();
  await tab.getByText('vrec-consent-v1').waitFor();
  const go = tab.getByRole('button', { name: '客户已同意，发起远程协助' });
  assert.equal(await go.isDisabled(), true, 'nothing is asked before the customer agrees');
  assert.equal(rig.sql(`SELECT COUNT(*) FROM video_calls WHERE bank_id = ${B01}`), '0');
  await shot(tab, 'tablet-video-consent');
  await tab.getByText('客户同意录音录像').click();
  await go.click();
  await tab.getByTestId('video-queue').waitFor();
  const callId = rig.sql(`SELECT id FROM video_calls WHERE bank_id = ${B01} ORDER BY id DESC LIMIT 1`);
  assert.equal(rig.sql(`SELECT record || ',' || consent_version || ',' || consent_by FROM video_calls WHERE bank_id = ${B01} AND id = ${callId}`), `1,vrec-consent-v1,teller:${rig.sql("SELECT id FROM tellers WHERE code = 'demo01'")}`);

  // The agent takes it: the recording starts.
  const { page: con } = await rig.newPage({ viewport: { width: 1440, height: 900 }, permissions: ['camera', 'microphone'] });
  con.on('pageerror', (e) => errors.push(String(e)));
  await con.goto(`${rig.url}/console/`);
  await con.getByPlaceholder('请输入柜员号').fill('agent01');
  await con.getByPlaceholder('请输入密码').fill(PASSWORD);
  await con.getByRole('button', { name: '登录' }).click();
  await con.waitForURL(/#\/video\/desk$/);
  await con.getByTestId('stream-state').filter({ hasText: '在线' }).waitFor({ timeout: 15000 });
  await con.getByTestId('waiting').filter({ hasText: '1' }).waitFor();
  await con.getByRole('button', { name: '接听下一位' }).click();

  // Both connected with frames, then both in the recording.
  await tab.getByTestId('video-call').waitFor({ timeout: 30000 });
  await receivingFrames(con);
  await receivingFrames(tab);
  assert.equal(rig.sql(`SELECT state FROM video_recordings WHERE bank_id = ${B01} AND call_id = '${callId}'`), 'recording');
  await sendingToJanus(tab);
  await sendingToJanus(con);
  await tab.getByTestId('rec-badge').filter({ hasText: '录制中' }).waitFor({ timeout: 15000 });
  await con.getByTestId('rec-badge').filter({ hasText: '录制中' }).waitFor({ timeout: 15000 });
  assert.equal(rig.sql(`SELECT COUNT(*) FROM audit_log WHERE event = 'vrec.joined'`), '2', 'the tablet and the agent joined');
  await shot(tab, 'tablet-video-recording');
  await shot(con, 'console-video-recording');
  await sleep(5000); // five seconds of media into the recording

  // The tablet hangs up; its recording leg closes; the watcher stores it.
  await tab.getByRole('button', { name: '挂断' }).click();
  await tab.getByTestId('video-ended').waitFor();
  assert.equal(await tab.evaluate(() => window.__zyRecPc), null, 'the recording leg is closed');
  let state = '';
  for (let i = 0; i < 120 && state !== 'stored'; i++) {
    state = rig.sql(`SELECT state FROM video_recordings WHERE bank_id = ${B01} AND call_id = '${callId}'`);
    if (state === 'recording') await sleep(500);
    else assert.equal(state, 'stored', rig.sql(`SELECT error FROM video_recordings WHERE bank_id = ${B01} AND call_id = '${callId}'`));
  }
  assert.equal(state, 'stored');
  assert.equal(rig.sql(`SELECT recording_id IS NOT NULL FROM video_calls WHERE bank_id = ${B01} AND id = ${callId}`), '1');

  // Listed with the call's business; the played bytes hash to the stored ones.
  const { page: adm } = await rig.newPage({ viewport: { width: 1440, height: 900 } });
  await consoleLogin(rig, adm, 'admin01');
  const l = await api(adm, 'GET', '/recordings');
  assert.equal(l.status, 200, JSON.stringify(l.json));
  const rec = l.json.recordings.find((x) => x.call_id === callId);
  assert.ok(rec, 'listed');
  assert.equal(rec.biz_no, bizNo);
  assert.equal(rec.consent.text_version, 'vrec-consent-v1');
  assert.equal(rec.sm3, rig.sql(`SELECT sm3 FROM video_recordings WHERE bank_id = ${B01} AND call_id = '${callId}'`));
  const manifest = rec.tracks.map((t) => `${t.kind} ${t.sm3} ${t.size}\n`).join('');
  assert.equal(sm3(manifest), rec.sm3, 'the recording hash is the SM3 of its manifest');
  assert.ok(rec.tracks.some((t) => t.kind === 'video'), 'a video track');
  for (const t of rec.tracks) {
    const p = await fetchPlay(adm, { bank: 'B01', id: String(rec.id), track: String(t.n) });
    assert.equal(p.status, 200);
    assert.equal(p.bytes.length, t.size);
    assert.equal(sm3(p.bytes), t.sm3, `track ${t.n} (${t.kind}) plays back as stored`);
  }
  assert.deepEqual(errors, []);
});
