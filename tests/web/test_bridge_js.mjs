// web/shared/bridge/zhanye-bridge.js against the real zhanye-bridge and
// zhanye-devsims (idcard, pin, sig) as processes over real ptys, Node 20's
// own fetch: find() finds the bridge and lists its devices; without a token,
// or with a wrong one, calls fail `unpaired`; readIdCard() answers the card
// the devsim holds; no card fails `no_card` with manualAllowed; enterPin()
// answers the pad's 32-hex PIN block; captureSignature() hands each stroke
// event to onStroke and resolves with a PNG; with the bridge stopped, find()
// finds nothing and calls fail `no_bridge`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createCipheriv, createDecipheriv } from "node:crypto";
import { mkdtempSync, readFileSync, existsSync, rmSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { createBridge, BridgeError } from "../../web/shared/bridge/zhanye-bridge.js";

const BRIDGE = process.env.ZHANYE_BRIDGE_BIN;
const DEVSIM = process.env.ZHANYE_DEVSIM_BIN;
const PAN = "6222021234567890128";
const MASTER = Buffer.from("0123456789ABCDEFFEDCBA9876543210", "hex"); // the devsim's demo key
const PINKEY = Buffer.from("112233445566778899AABBCCDDEEF00F", "hex");

const dir = mkdtempSync(join(tmpdir(), "zybjs"));
const procs = [];
let bridgeUrl, token, ctl = {};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
    s.on("error", rej);
  });
}

function start(argv, log) {
  const fd = openSync(log, "w");
  const p = spawn(argv[0], argv.slice(1), { stdio: ["ignore", fd, fd] });
  procs.push(p);
  return p;
}

async function waitFor(what, fn, ms = 10000) {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(50)) {
    const v = fn();
    if (v) return v;
  }
  throw new Error("timed out waiting for " + what);
}

const logLine = (log, re) => {
  if (!existsSync(log)) return null;
  const m = readFileSync(log, "utf8").match(re);
  return m && m[1];
};

async function control(url, method, path, body) {
  const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(r.status, 200, `${method} ${path}`);
  await r.arrayBuffer();
}

function sm4(key, block) {
  const c = createCipheriv("sm4-ecb", key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

async function rejectsWith(promise, code, manualAllowed) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof BridgeError, String(e));
    assert.equal(e.code, code);
    assert.ok(/[\u4e00-\u9fff]/.test(e.message), "a Chinese message: " + e.message);
    if (manualAllowed !== undefined) assert.equal(e.manualAllowed, manualAllowed);
    return true;
  });
}

before(async () => {
  assert.ok(BRIDGE && DEVSIM, "ZHANYE_BRIDGE_BIN and ZHANYE_DEVSIM_BIN");
  const idlog = join(dir, "idcard.log");
  start([DEVSIM, "idcard", "--pty-link", join(dir, "idcard")], idlog);
  ctl.idcard = await waitFor("idcard devsim", () => logLine(idlog, /control (http:\/\/[0-9.:]+)/));
  for (const mode of ["pin", "sig"]) {
    const port = await freePort();
    start([DEVSIM, mode, "--pty-link", join(dir, mode), "--control", `127.0.0.1:${port}`], join(dir, mode + ".log"));
    ctl[mode] = `http://127.0.0.1:${port}`;
    await waitFor(mode + " devsim", () => existsSync(join(dir, mode)) && logLine(join(dir, mode + ".log"), /(control)/));
  }
  const blog = join(dir, "bridge.log");
  // --poll-ms 0: no presence poll racing the reads below.
  start(
    [BRIDGE, "--listen", "127.0.0.1:0", "--idcard-port", join(dir, "idcard"), "--pin-port", join(dir, "pin"),
     "--sig-port", join(dir, "sig"), "--token-file", join(dir, "token"), "--poll-ms", "0"],
    blog,
  );
  bridgeUrl = await waitFor("bridge", () => logLine(blog, /listening on (http:\/\/[0-9.:]+)/));
  token = readFileSync(join(dir, "token"), "utf8").split("\n")[0].trim();
});

after(async () => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
});

test("find() finds the bridge; unpaired calls fail `unpaired`", async () => {
  // A default port nobody listens on first, so find() has to move on.
  const dead = await freePort();
  const b = createBridge({ base: `http://127.0.0.1:${dead}`, ports: [Number(new URL(bridgeUrl).port)] });
  const f = await b.find();
  assert.equal(f.found, true);
  assert.equal(f.paired, false);
  assert.equal(b.base, bridgeUrl);
  await rejectsWith(b.readIdCard(), "unpaired", true);
  await rejectsWith(b.enterPin(PAN), "unpaired", false);
  await rejectsWith(b.pair("wrong-token-wrong-token"), "unpaired");
  assert.equal(b.paired, false);
  // a token the bridge does not know (paired with a stale one)
  const stale = createBridge({ base: bridgeUrl, token: "stale-token-stale-token" });
  await rejectsWith(stale.readIdCard(), "unpaired", true);

  const { devices } = await b.pair(token + "\n");
  assert.equal(b.paired, true);
  const names = devices.map((d) => d.name);
  for (const n of ["idcard", "pin", "signature"]) assert.ok(names.includes(n), names.join(","));
  const again = await b.find();
  assert.equal(again.paired, true);
  assert.equal(again.devices.find((d) => d.name === "idcard").state, "ready");
});

test("readIdCard() answers the devsim's card; no card is no_card with manual entry", async () => {
  const b = createBridge({ base: bridgeUrl, token });
  await control(ctl.idcard, "POST", "/card", {});
  const card = await b.readIdCard();
  assert.equal(card.name, "张三");
  assert.match(card.id_no, /^\d{17}[\dX]$/);
  assert.ok(card.photo_wlt.length > 1000);
  await control(ctl.idcard, "DELETE", "/card");
  await rejectsWith(b.readIdCard(), "no_card", true);
});

test("enterPin() answers the pad's PIN block", async () => {
  const b = createBridge({ base: bridgeUrl, token });
  await control(ctl.pin, "POST", "/reset");
  await control(ctl.pin, "POST", "/script", { pin: "123456" });
  // No key yet: the bridge's own error, not manual.
  await rejectsWith(b.enterPin(PAN, { timeoutS: 5 }), "no_key", false);
  const kcv = sm4(PINKEY, Buffer.alloc(16)).subarray(0, 4).toString("hex").toUpperCase();
  const r = await fetch(bridgeUrl + "/v1/pin/key", {
    method: "POST",
    headers: { Authorization: "Bearer " + token },
    body: JSON.stringify({ key: sm4(MASTER, PINKEY).toString("hex").toUpperCase(), kcv }),
  });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  const pb = await b.enterPin(PAN, { timeoutS: 5 });
  assert.match(pb.pin_block, /^[0-9A-F]{32}$/);
  // and it is the ISO 9564 format-0 block of 123456 for PAN
  const clear = sm4Decrypt(PINKEY, Buffer.from(pb.pin_block, "hex"));
  const pinf = Buffer.from("06123456FFFFFFFF", "hex"), panf = Buffer.from("0000123456789012", "hex");
  const want = Buffer.concat([Buffer.from(pinf.map((x, i) => x ^ panf[i])), Buffer.alloc(8, 0xff)]);
  assert.deepEqual(clear, want);
  await control(ctl.pin, "POST", "/script", { pin: "123456", cancel: true });
  await rejectsWith(b.enterPin(PAN, { timeoutS: 5 }), "cancelled", false);
});

function sm4Decrypt(key, block) {
  const d = createDecipheriv("sm4-ecb", key, null);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

test("captureSignature() hands the strokes to onStroke and resolves with a PNG", async () => {
  const b = createBridge({ base: bridgeUrl, token });
  await control(ctl.sig, "POST", "/reset");
  const s1 = Array.from({ length: 40 }, (_, i) => [20 + 4 * i, 20 + 2 * i, 300]);
  const s2 = Array.from({ length: 10 }, (_, i) => [100 + 5 * i, 150, 800]);
  await control(ctl.sig, "POST", "/script", { strokes: [s1, s2], clear_first: true });
  const got = [];
  let clears = 0;
  const r = await b.captureSignature({
    width: 320,
    height: 200,
    timeoutS: 5,
    onStroke: (pts) => got.push(...pts),
    onClear: () => {
      clears++;
      got.length = 0;
    },
  });
  const png = Buffer.from(r.png, "base64");
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 320);
  assert.equal(png.readUInt32BE(20), 200);
  assert.ok(clears >= 1);
  assert.equal(got.length, 50);
  assert.deepEqual(got.slice(0, 40).map((p) => [p[0], p[1], p[2]]), s1.map(([x, y]) => [0, x, y]));
  assert.deepEqual(got.slice(40).map((p) => [p[0], p[1], p[2]]), s2.map(([x, y]) => [1, x, y]));
  // cancelled on the pad: no manual entry for a signature
  await control(ctl.sig, "POST", "/script", { cancel: true });
  await rejectsWith(b.captureSignature({ width: 320, height: 200, timeoutS: 5 }), "cancelled", false);
});

test("with the bridge stopped: find() finds nothing, calls fail no_bridge", async () => {
  const bridge = procs[procs.length - 1];
  bridge.kill("SIGTERM");
  await waitFor("bridge exit", () => bridge.exitCode !== null || bridge.signalCode !== null);
  const b = createBridge({ base: bridgeUrl, token, ports: [] });
  const f = await b.find();
  assert.equal(f.found, false);
  await rejectsWith(b.readIdCard(), "no_bridge", true);
  await rejectsWith(b.readBankCard(), "no_bridge", true);
  await rejectsWith(b.enterPin(PAN), "no_bridge", false);
  await rejectsWith(b.captureSignature({ width: 10, height: 10 }), "no_bridge", false);
});
