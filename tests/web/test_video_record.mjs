// A recorded call (双录) end to end with real parts: a real Janus
// (scripts/janus-run.sh), the real daemon with the demo's data, Debian's
// Chromium with fake camera and microphone publishing into the call's room
// through zhanye (`zhanye vrec join`: the browser's SDP offer relayed to
// Janus with the API secret, Janus's answer back), janus-pp-rec at the end.
// Checks: no consent → refused and nothing written; the room exists in
// Janus while the call is recorded; the browser's peer connection reaches
// `connected` and sends frames; finishing gives a stored recording whose
// video track is a WebM file (EBML header, non-trivial size) whose SM3
// matches the stored hash, read back through the playback endpoint; the
// recording's hash is the SM3 of its manifest; the file at rest is not the
// clear bytes; a Range request answers 206 with the right slice; every
// viewing is audited (vrec.viewed); B02's admin can neither list nor play
// B01's recording (404); the console's 双录记录 page lists it and plays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, BIN, sleep } from './lib/rig.mjs';
import { startJanus } from './lib/janus.mjs';
import { consoleLogin, consoleGo, api, shot } from './lib/console.mjs';

const DESKTOP = { viewport: { width: 1440, height: 900 } };
const FAKE_MEDIA = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

const sm3 = (buf) => createHash('sm3').update(buf).digest('hex');

function vrec(rig, args, input) {
  const r = spawnSync(BIN, ['vrec', ...args, '--data', rig.data, '--bank', 'B01'], { input, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** Whether Janus has room (its own API, with the test's API secret). */
async function roomExists(janus, room) {
  const call = async (path, body) => (await fetch(`${janus.url}${path}`, { method: 'POST', body: JSON.stringify({ ...body, transaction: 't', apisecret: janus.secret }) })).json();
  const sid = (await call('', { janus: 'create' })).data.id;
  const hid = (await call(`/${sid}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  const r = await call(`/${sid}/${hid}`, { janus: 'message', body: { request: 'exists', room } });
  await call(`/${sid}`, { janus: 'destroy' });
  return r.plugindata.data.exists;
}

/** GET of the playback endpoint from the page's session: status, headers, bytes. */
async function fetchPlay(page, query, range) {
  const r = await page.evaluate(
    async ({ query, range }) => {
      const res = await fetch(`/api/v1/admin/recordings/play?${new URLSearchParams(query)}`, { headers: range ? { Range: range } : {} });
      const b = new Uint8Array(await res.arrayBuffer());
      let s = '';
      for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
      return { status: res.status, type: res.headers.get('content-type'), range: res.headers.get('content-range'), b64: btoa(s) };
    },
    { query, range },
  );
  return { ...r, bytes: Buffer.from(r.b64, 'base64') };
}

/** A browser page publishing fake camera and microphone; returns its offer. */
async function offer(page) {
  return page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    const pc = new RTCPeerConnection({ iceServers: [] });
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    window.__pc = pc;
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((res) => {
      if (pc.iceGatheringState === 'complete') return res();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && res());
      setTimeout(res, 5000);
    });
    return pc.localDescription.sdp;
  });
}

test('recorded call: consent, Janus room, browser media, sealed file, playback, scope', { timeout: 240000 }, async () => {
  const janus = await startJanus();
  const rig = await startRig({ chromiumArgs: FAKE_MEDIA, extraConf: janus.conf });
  try {
    const customer = rig.sql("SELECT MIN(id) FROM customers WHERE bank_id = (SELECT id FROM banks WHERE code = 'B01')");
    const base = ['--call', 'call-1', '--biz', 'B0100120261201', '--customer', customer];

    // --- no consent: refused, nothing written
    let r = vrec(rig, ['start', ...base]);
    assert.equal(r.status, 1);
    assert.match(r.err, /vrec_no_consent/);
    assert.equal(rig.sql('SELECT COUNT(*) FROM video_recordings'), '0');

    // --- consent captured: the room in Janus
    r = vrec(rig, ['start', ...base, '--consent-by', 'teller:demo01', '--consent-at', String(Date.now()), '--consent-version', 'vrec-consent-v1']);
    assert.equal(r.status, 0, r.err);
    const room = JSON.parse(r.out);
    assert.ok(room.room > 0 && room.pin.length === 16);
    assert.equal(await roomExists(janus, room.room), true, 'the recorded room is in Janus');

    // --- the customer's browser publishes into the room through zhanye
    const { page } = await rig.newPage();
    await page.goto(`${rig.url}/console/`);
    const sdp = await offer(page);
    r = vrec(rig, ['join', '--call', 'call-1', '--display', 'customer'], sdp);
    assert.equal(r.status, 0, r.err);
    assert.match(r.out, /^v=0/);
    await page.evaluate((answer) => window.__pc.setRemoteDescription({ type: 'answer', sdp: answer }), r.out);
    await page.waitForFunction(() => window.__pc.connectionState === 'connected', null, { timeout: 30000 });
    await sleep(6000); // six seconds of frames
    const sent = await page.evaluate(async () => {
      let v = 0;
      (await window.__pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') v += s.framesEncoded || 0;
      });
      return v;
    });
    assert.ok(sent > 10, `frames sent: ${sent}`);
    assert.equal(vrec(rig, ['keepalive', '--call', 'call-1']).status, 0);

    // --- the call ends: processed, hashed, sealed
    r = vrec(rig, ['finish', '--call', 'call-1']);
    assert.equal(r.status, 0, r.err);
    const done = JSON.parse(r.out);
    assert.equal(done.state, 'stored', r.out);
    assert.ok(done.tracks >= 1);
    assert.equal(await roomExists(janus, room.room), false, 'the room is gone');
    await page.context().close();

    // --- the bank admin lists it and plays it back
    const { page: a } = await rig.newPage(DESKTOP);
    await consoleLogin(rig, a, 'admin01');
    let l = await api(a, 'GET', '/recordings');
    assert.equal(l.status, 200, JSON.stringify(l.json));
    const rec = l.json.recordings.find((x) => x.call_id === 'call-1');
    assert.ok(rec, 'listed');
    assert.equal(rec.sm3, done.sm3);
    assert.equal(rec.biz_no, 'B0100120261201');
    assert.equal(rec.consent.text_version, 'vrec-consent-v1');
    assert.match(rec.customer, /\*/, 'the customer is masked');
    assert.ok(!JSON.stringify(rec).includes('.zyv'), 'no path leaves');
    const manifest = rec.tracks.map((t) => `${t.kind} ${t.sm3} ${t.size}\n`).join('');
    assert.equal(sm3(manifest), rec.sm3, 'the recording hash is the SM3 of its manifest');
    const video = rec.tracks.find((t) => t.kind === 'video');
    assert.ok(video, 'a video track');
    const q = { bank: 'B01', id: String(rec.id), track: String(video.n) };
    const before = Number(rig.sql("SELECT COUNT(*) FROM audit_log WHERE event = 'vrec.viewed'"));
    const whole = await fetchPlay(a, q);
    assert.equal(whole.status, 200);
    assert.equal(whole.type, 'video/webm');
    assert.equal(whole.bytes.length, video.size);
    assert.ok(video.size > 10000, `a non-trivial file: ${video.size} bytes`);
    assert.equal(whole.bytes.subarray(0, 4).toString('hex'), '1a45dfa3', 'an EBML (WebM) header');
    assert.ok(whole.bytes.includes(Buffer.from('webm')), 'DocType webm');
    assert.equal(sm3(whole.bytes), video.sm3, 'the played file matches the stored hash');
    const ffprobe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', '-'], { input: whole.bytes, encoding: 'utf8' });
    if (!ffprobe.error) assert.match(ffprobe.stdout, /vp8/);
    // at rest: sealed, not the clear bytes
    const bankId = rig.sql("SELECT id FROM banks WHERE code = 'B01'");
    const atRest = readFileSync(join(rig.data, 'recordings', bankId, `${rec.id}-${video.n}.webm.zyv`));
    assert.equal(atRest.subarray(0, 8).toString(), 'ZYVREC01');
    assert.ok(!atRest.includes(whole.bytes.subarray(0, 64)), 'the clear bytes are not at rest');
    assert.equal(execFileSync('sh', ['-c', `ls ${join(rig.data, 'recordings', 'spool')} | wc -l`], { encoding: 'utf8' }).trim(), '0', 'no clear files left');
    // a range
    const part = await fetchPlay(a, q, 'bytes=1000-1999');
    assert.equal(part.status, 206);
    assert.equal(part.range, `bytes 1000-1999/${video.size}`);
    assert.ok(part.bytes.equals(whole.bytes.subarray(1000, 2000)));
    assert.equal((await fetchPlay(a, q, `bytes=${video.size + 10}-`)).status, 416);
    // every viewing audited, by whom and which
    const viewed = rig.sql(`SELECT actor || ' ' || target FROM audit_log WHERE event = 'vrec.viewed' ORDER BY seq DESC LIMIT 1`);
    assert.match(viewed, new RegExp(`admin01 vrec:${rec.id}$`));
    assert.ok(Number(rig.sql("SELECT COUNT(*) FROM audit_log WHERE event = 'vrec.viewed'")) >= before + 2, 'the whole file and the range: two viewings');
    assert.equal(rig.sql("SELECT COUNT(*) FROM audit_log WHERE event IN ('vrec.consented', 'vrec.started', 'vrec.joined', 'vrec.stored')"), '4');

    // --- the console page: listed with its hash, played in a <video>
    await consoleGo(rig, a, '/back/recordings');
    const row = a.locator('.recordings .el-table__body tr').filter({ hasText: 'B0100120261201' }).first();
    await row.waitFor();
    assert.ok((await row.innerText()).includes(rec.sm3.slice(0, 16)));
    await shot(a, 'recordings');
    await row.getByRole('button', { name: '播放' }).click();
    await a.locator('.player video').waitFor();
    await a.waitForFunction(() => {
      const v = document.querySelector('.player video');
      return v && v.readyState >= 1 && v.videoWidth > 0;
    }, null, { timeout: 20000 });
    await shot(a, 'recording-play');
    await a.context().close();

    // --- bank B02's admin: neither listed nor playable
    const { page: b } = await rig.newPage(DESKTOP);
    await consoleLogin(rig, b, 'admin02');
    l = await api(b, 'GET', '/recordings');
    assert.equal(l.status, 200);
    assert.ok(!l.json.recordings.some((x) => x.call_id === 'call-1'));
    assert.equal((await api(b, 'GET', '/recordings?bank=B01')).status, 404);
    assert.equal((await fetchPlay(b, q)).status, 404);
    assert.equal((await fetchPlay(b, { id: String(rec.id), track: String(video.n) })).status, 404);
    // a client manager's or branch manager's session may not list them at all
    await b.context().close();
  } finally {
    await rig.stop();
    await janus.stop();
  }
});
