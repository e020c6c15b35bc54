// The recording leg of a recorded call (双录; docs/architecture.md "Recording
// a call"): a SECOND RTCPeerConnection, send-only, carrying the same local
// tracks as the P2P call, to the media server (Janus) that records it. The
// offer is non-trickle: it is sent once ICE gathering is complete, through
// zhanye (the tablet: VIDEO_RECORD_JOIN; the console: POST
// /api/v1/admin/video/record-join), which hands it to Janus and returns
// Janus's answer. The browser never talks to Janus's API nor sees its secret.
//
//   const leg = await openRecordingLeg(stream, (sdp) => join(sdp), { onState })
//   leg.close()
//
// join(sdp) resolves with Janus's answer SDP (a string) or throws. onState
// gets 'joining' | 'recording' | 'failed' | 'closed'.

function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === 'complete') {
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      }
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, ms); // what was gathered by then goes
  });
}

export async function openRecordingLeg(stream, join, { onState = () => {}, gatherMs = 5000 } = {}) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  let closed = false;
  let told = 'joining';
  let watch = null;
  onState(told);
  for (const t of stream.getTracks()) pc.addTransceiver(t, { direction: 'sendonly', streams: [stream] });
  // The state is told on each change, and also checked once a second (an
  // event that raced the page's own work must not leave a stale badge).
  const check = () => {
    if (closed) return;
    const s = pc.connectionState === 'connected' ? 'recording' : pc.connectionState === 'failed' ? 'failed' : told;
    if (s !== told) onState((told = s));
  };
  pc.onconnectionstatechange = check;
  const leg = {
    pc,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(watch);
      pc.close();
      onState('closed');
    },
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, gatherMs);
    const sdp = await join(pc.localDescription.sdp);
    if (closed) return leg;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    watch = setInterval(check, 1000);
    check();
  } catch (e) {
    if (!closed) {
      onState('failed');
      pc.close();
      closed = true;
    }
    throw e;
  }
  return leg;
}
