// interop.mjs — issue 3: ZY1 between sm-crypto (npm, pinned) and the C
// library, both ways. Run by meson (test interop_node) with ZY1_TOOL set to
// the built zy1_tool; exits non-zero with a message on any failure.
//
//  1. JS seals a request, C opens it (zy1, server side); C seals the answer,
//     JS opens it and verifies its MAC;
//  2. C seals a request (zyc, the tablet's path, and the two other ek forms),
//     JS opens it as a server would, answers, and C opens the answer;
//     both for a regular transaction (F = DS) and DEVICE_ACTIVATE (F from
//     tlr and code), with each ek encoding (128-byte, 04 and DER);
//  3. JS reproduces the spec vectors exactly; tampered messages are refused
//     on the other side.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const here = new URL('.', import.meta.url);
const die = (msg) => {
  console.error(`interop_node: FAIL: ${msg}`);
  process.exit(1);
};

// The node_modules check comes first and fails loudly: a missing sm-crypto
// must never turn into a skipped (green) interop test.
const pkg = JSON.parse(readFileSync(new URL('package.json', here), 'utf8'));
const pinned = pkg.dependencies['sm-crypto'];
const installed = new URL('node_modules/sm-crypto/package.json', here);
if (!existsSync(installed))
  die('tests/interop/node_modules is missing: run `npm ci` in tests/interop (make test does it through scripts/deps.sh)');
const version = JSON.parse(readFileSync(installed, 'utf8')).version;
if (version !== pinned)
  die(`sm-crypto ${version} is installed but ${pinned} is pinned: run \`npm ci\` in tests/interop`);
const tool = process.env.ZY1_TOOL;
if (!tool || !existsSync(tool)) die('ZY1_TOOL does not name the built zy1_tool (run through `meson test`)');

const zy1 = await import('./zy1.mjs');
const vec = JSON.parse(readFileSync(new URL('../../spec/secure-channel-vectors.json', here), 'utf8'));

// ---- harness ----------------------------------------------------------------

let passed = 0;
const failures = [];
function check(name, fn) {
  try {
    fn();
    passed++;
  } catch (e) {
    failures.push(name);
    console.error(`not ok - ${name}\n    ${e.stack ?? e}`);
  }
}
function expect(cond, what) {
  if (!cond) throw new Error(what);
}
function expectEqual(got, want, what) {
  if (!isDeepStrictEqual(got, want))
    throw new Error(`${what}\n      got:  ${JSON.stringify(got)}\n      want: ${JSON.stringify(want)}`);
}
function expectThrows(fn, code, what) {
  try {
    fn();
  } catch (e) {
    if (e instanceof zy1.Zy1Error && e.code === code) return;
    throw new Error(`${what}: threw ${e}, want ${code}`);
  }
  throw new Error(`${what}: accepted, want ${code}`);
}

/** Runs a zy1_tool subcommand. Exit 0 = ok, 1 = refused with a status; a
 * sanitizer report, a crash or a usage error (2) fails the check. */
function c(cmd, input) {
  const r = spawnSync(tool, [cmd], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`zy1_tool ${cmd} exited ${r.status ?? r.signal}: ${r.stderr}`);
  if (r.stderr) throw new Error(`zy1_tool ${cmd} wrote to stderr: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  expect((out.status === 'ok') === (r.status === 0), `zy1_tool ${cmd}: status ${out.status} with exit ${r.status}`);
  return out;
}
function cOk(cmd, input) {
  const out = c(cmd, input);
  expect(out.status === 'ok', `zy1_tool ${cmd} refused: ${out.status}`);
  return out;
}

const flipBit = (b64text, byte = 0, bit = 0) => {
  const u8 = Buffer.from(b64text, 'base64');
  u8[byte % u8.length] ^= 1 << bit;
  return u8.toString('base64');
};
const tamper = (bodyText, field, byte) => {
  const o = JSON.parse(bodyText);
  o[field] = flipBit(o[field], byte);
  return JSON.stringify(o);
};

// ---- fixtures ---------------------------------------------------------------

const vkey = {
  privHex: vec.sm2.private_key,
  pubB64: vec.sm2.public_key_b64,
  derB64: vec.sm2.private_key_sec1_der_b64,
};
const fresh = zy1.generateServerKey();
const DEV = randomBytes(16).toString('hex');
const DS = randomBytes(32);
const TLR = 'demo01';
const CODE = 'K7QX-9PRM';
const now = () => Date.now();

const requestPayload = (n) =>
  JSON.stringify({
    sid: `s-${n}`,
    cseq: `c-${n}`,
    data: { customer: '张三', address: '浙江省杭州市西湖区文三路 90 号', id_no: '330102199001011234', n },
  });
const activationPayload = JSON.stringify({ data: { device: { model: '华为 MatePad 11', os: 'HarmonyOS 4', app: '1.0.0' } } });
const answer = (n) =>
  JSON.stringify({ code: 'OK', message: '处理成功', data: { name: '李四', n }, srvseq: `2026112400000000${n}` });

const TXS = [
  {
    name: 'regular',
    tx: 'CUSTOMER_QUERY',
    payload: requestPayload,
    js: { F: DS },
    c: { ds_b64: DS.toString('base64') },
    server: { F: DS.toString('hex') },
    jsFactor: () => DS,
  },
  {
    name: 'DEVICE_ACTIVATE',
    tx: 'DEVICE_ACTIVATE',
    payload: () => activationPayload,
    js: { F: zy1.activationFactor(TLR, CODE), tlr: TLR },
    c: { tlr: TLR, code: CODE },
    server: { code: CODE },
    jsFactor: (b) => zy1.activationFactor(b.tlr, CODE),
  },
];
const FORMS = ['raw64', 'raw65', 'der'];
const KEYS = [
  ['vector key', vkey],
  ['fresh key', fresh],
];

// ---- 3. the spec vectors ----------------------------------------------------

check('vectors: SM3 and HMAC-SM3', () => {
  expectEqual(zy1.hex(zy1.sm3Hash('abc')), vec.sm3.abc, 'SM3("abc")');
  const h = vec.hmac_sm3;
  expectEqual(zy1.hex(zy1.hmac(Buffer.from(h.key, 'hex'), h.msg)), h.mac, 'HMAC-SM3');
});

const vS = Buffer.from(vec.keys.S, 'hex');
const vDS = Buffer.from(vec.keys.DS, 'hex');
check('vectors: key derivation and activation factor', () => {
  expectEqual(zy1.keysHex(zy1.deriveKeys(vS, vDS)), {
    kenc: vec.keys.Kenc,
    kmac: vec.keys.Kmac,
    renc: vec.keys.Renc,
    rmac: vec.keys.Rmac,
  }, 'keys');
  const F = zy1.activationFactor(vec.activation.tlr, vec.activation.code);
  expectEqual(zy1.hex(F), vec.activation.F, 'activation F');
  expectEqual(zy1.hex(zy1.deriveKeys(vS, F).kmac), vec.activation.Kmac, 'activation Kmac');
});

check('vectors: JS unwraps S from all three ek encodings', () => {
  for (const [name, form] of [
    ['ek_no04_b64', 'raw64'],
    ['ek_c1c3c2_b64', 'raw65'],
    ['ek_der_b64', 'der'],
  ]) {
    const r = zy1.unwrapSecret(vkey.privHex, Buffer.from(vec.sm2[name], 'base64'));
    expectEqual([r.form, zy1.hex(r.S)], [form, vec.sm2.S], name);
  }
  // The DER the JS writes is the DER of the vectors (and of OpenSSL).
  const raw64 = Buffer.from(vec.sm2.ek_no04_b64, 'base64');
  expectEqual(zy1.b64(zy1.sm2CipherDer(raw64)), vec.sm2.ek_der_b64, 'DER encoding');
});

function vectorRequest(section, tx, F, tlr, payload) {
  const body = vec[section].body;
  return zy1.sealRequest({
    kid: body.kid,
    dev: body.dev,
    tx,
    tlr,
    F,
    ts: body.ts,
    payload,
    fixed: {
      S: vS,
      nonce: Buffer.from(body.nonce, 'base64'),
      iv: Buffer.from(body.iv, 'base64'),
      ek: Buffer.from(body.ek, 'base64'),
    },
  });
}

check('vectors: JS seals the request exactly (ct, mac, body)', () => {
  const r = vectorRequest('request', vec.request.TX, vDS, undefined, vec.request.payload);
  expectEqual(zy1.requestMacInput(vec.request.TX, r.fields), vec.request.mac_input, 'mac_input');
  expectEqual(r.fields.ct, vec.request.body.ct, 'ct');
  expectEqual(r.fields.mac, vec.request.body.mac, 'mac');
  expectEqual(r.body, JSON.stringify(vec.request.body), 'body');
});

check('vectors: JS seals the activation request exactly (mac, body)', () => {
  // The vectors do not list the activation payload text: it is taken from
  // the vector ct (Kenc depends on S only), so this pins F, Kmac and M.
  const b = vec.activation.body;
  const kenc = zy1.deriveKeys(vS, vDS).kenc;
  const text = new TextDecoder().decode(zy1.sm4Decrypt(kenc, Buffer.from(b.iv, 'base64'), Buffer.from(b.ct, 'base64')));
  const F = zy1.activationFactor(vec.activation.tlr, vec.activation.code);
  const r = vectorRequest('activation', 'DEVICE_ACTIVATE', F, vec.activation.tlr, text);
  expectEqual(zy1.requestMacInput('DEVICE_ACTIVATE', r.fields), vec.activation.mac_input, 'mac_input');
  expectEqual(r.fields.mac, b.mac, 'mac');
  expectEqual(r.body, JSON.stringify(b), 'body');
});

check('vectors: JS seals and opens the response exactly', () => {
  const v = vec.response;
  const keys = zy1.deriveKeys(vS, vDS);
  const body = zy1.sealResponse(keys, v.TX, v.request_nonce, v.body.ts, v.plaintext, Buffer.from(v.body.iv, 'base64'));
  expectEqual(JSON.parse(body), v.body, 'response body');
  const call = { tx: v.TX, nonce: v.request_nonce, keys };
  expectEqual(zy1.responseMacInput(v.TX, v.request_nonce, v.body), v.mac_input, 'mac_input');
  expectEqual(zy1.openResponse(call, JSON.stringify(v.body)).plaintext, v.plaintext, 'plaintext');
});

check('vectors: JS opens the vector requests as a server', () => {
  const r = zy1.openRequest(vkey.privHex, vec.request.TX, JSON.stringify(vec.request.body), () => vDS);
  expectEqual(r.payload, JSON.parse(vec.request.payload), 'payload');
});

check('vectors: C opens the vector requests and answers exactly', () => {
  const r = cOk('open-request', {
    key_der_b64: vkey.derB64,
    tx: vec.request.TX,
    F: vec.keys.DS,
    body: JSON.stringify(vec.request.body),
  });
  expectEqual(r.payload, JSON.parse(vec.request.payload), 'payload');
  expectEqual(r.ek_form, 'raw65', 'ek form');
  const a = cOk('open-request', {
    key_der_b64: vkey.derB64,
    tx: 'DEVICE_ACTIVATE',
    code: vec.activation.code,
    body: JSON.stringify(vec.activation.body),
  });
  expectEqual(a.keys.kmac, vec.activation.Kmac, 'activation Kmac');
});

// ---- 1. JS client -> C server -> JS client -----------------------------------

let n = 0;
for (const [keyName, key] of KEYS) {
  for (const t of TXS) {
    for (const form of FORMS) {
      check(`JS seals (${t.name}, ${form}, ${keyName}) -> C opens -> C answers -> JS opens`, () => {
        n++;
        const payload = t.payload(n);
        const req = zy1.sealRequest({ pubB64: key.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload, ekForm: form, ...t.js });
        const opened = cOk('open-request', { key_der_b64: key.derB64, tx: t.tx, body: req.body, ...t.server });
        expectEqual(opened.ek_form, form, 'C sees the ek form');
        expectEqual(opened.payload, JSON.parse(payload), 'C payload');
        expectEqual(opened.nonce, req.call.nonce, 'nonce');
        expectEqual(opened.keys, zy1.keysHex(req.call.keys), 'C derives the keys JS derived');

        const text = answer(n);
        const rsp = cOk('seal-response', { keys: opened.keys, tx: t.tx, nonce: opened.nonce, ts: now(), plaintext: text });
        expectEqual(zy1.openResponse(req.call, rsp.body).plaintext, text, 'JS opens the C answer');
        expectThrows(() => zy1.openResponse(req.call, tamper(rsp.body, 'ct', 5)), 'bad_mac', 'JS refuses a flipped bit in the C answer ct');
        expectThrows(() => zy1.openResponse(req.call, tamper(rsp.body, 'mac', 0)), 'bad_mac', 'JS refuses a flipped bit in the C answer mac');
        const other = { ...req.call, nonce: zy1.b64(randomBytes(16)) };
        expectThrows(() => zy1.openResponse(other, rsp.body), 'bad_mac', 'JS refuses an answer to another nonce');
      });
    }
  }
}

// ---- 2. C client -> JS server -> C client -------------------------------------

for (const [keyName, key] of KEYS) {
  for (const t of TXS) {
    for (const form of FORMS) {
      check(`C seals (${t.name}, ${form}${form === 'raw65' ? ' via zyc' : ''}, ${keyName}) -> JS opens -> JS answers -> C opens`, () => {
        n++;
        const payload = t.payload(n);
        const sealed = cOk('seal-request', { pub_b64: key.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload, ek_form: form, ...t.c });
        const opened = zy1.openRequest(key.privHex, t.tx, sealed.body, t.jsFactor);
        expectEqual(opened.form, form, 'JS sees the ek form');
        expectEqual(opened.payload, JSON.parse(payload), 'JS payload');
        expectEqual(zy1.keysHex(opened.keys), sealed.call.keys, 'JS derives the keys C derived');
        if (t.tx === 'DEVICE_ACTIVATE') expectEqual(opened.fields.tlr, TLR, 'tlr');
        else expect(!('tlr' in opened.fields), 'no tlr outside activation');

        const text = answer(n);
        const rsp = zy1.sealResponse(opened.keys, t.tx, opened.nonce, now(), text);
        const got = cOk('open-response', { call: sealed.call, body: rsp });
        expectEqual(got.plaintext, text, 'C opens the JS answer');
        for (const field of ['ct', 'iv', 'mac']) {
          const bad = c('open-response', { call: sealed.call, body: tamper(rsp, field, 3) });
          expectEqual(bad.status, 'bad_mac', `C refuses a flipped bit in the JS answer ${field}`);
        }
      });
    }
  }
}

// ---- 3. negative: what C must refuse from a JS client ---------------------------

check('C refuses tampered JS requests (ct, ek, iv, mac, ts, wrong F)', () => {
  const t = TXS[0];
  const req = zy1.sealRequest({ pubB64: fresh.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload: t.payload(0), ...t.js });
  const open = (body, extra = {}) => c('open-request', { key_der_b64: fresh.derB64, tx: t.tx, body, ...t.server, ...extra });
  expectEqual(open(req.body).status, 'ok', 'the untouched request');
  for (const byte of [0, 17, 31]) expectEqual(open(tamper(req.body, 'ct', byte)).status, 'bad_mac', `ct byte ${byte} flipped`);
  expectEqual(open(tamper(req.body, 'ek', 0)).status, 'bad_mac', 'ek C1 flipped');
  expectEqual(open(tamper(req.body, 'ek', 100)).status, 'bad_mac', 'ek C3 flipped');
  expectEqual(open(tamper(req.body, 'iv', 0)).status, 'bad_mac', 'iv flipped');
  expectEqual(open(tamper(req.body, 'mac', 0)).status, 'bad_mac', 'mac flipped');
  expectEqual(open(JSON.stringify({ ...req.fields, ts: req.fields.ts + 1 })).status, 'bad_mac', 'ts changed');
  expectEqual(open(req.body, { F: randomBytes(32).toString('hex') }).status, 'bad_mac', 'another device secret');
  expectEqual(c('open-request', { key_der_b64: vkey.derB64, tx: t.tx, body: req.body, ...t.server }).status, 'bad_mac', 'another server key');
  expectEqual(open(req.body, { tx: 'LOGOUT' }).status, 'bad_mac', 'another TX in the path');
});

check('C refuses a JS activation with the wrong code', () => {
  const t = TXS[1];
  const req = zy1.sealRequest({ pubB64: fresh.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload: t.payload(0), ...t.js });
  const r = c('open-request', { key_der_b64: fresh.derB64, tx: t.tx, body: req.body, code: 'K7QX-9PRN' });
  expectEqual(r.status, 'bad_mac', 'wrong activation code');
});

check('JS refuses tampered C requests', () => {
  const t = TXS[0];
  const sealed = cOk('seal-request', { pub_b64: fresh.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload: t.payload(0), ek_form: 'raw65', ...t.c });
  for (const field of ['ct', 'ek', 'iv', 'mac'])
    expectThrows(() => zy1.openRequest(fresh.privHex, t.tx, tamper(sealed.body, field, 7), t.jsFactor), 'bad_mac', `${field} flipped`);
});

// ---- more random rounds of the main path (fresh S, k, nonce, iv each) ----------

const ROUNDS = Number(process.env.ZY1_INTEROP_ROUNDS ?? 24);
check(`${ROUNDS} random round trips JS -> C -> JS and C -> JS -> C (128-byte ek)`, () => {
  for (let i = 0; i < ROUNDS; i++) {
    const key = i % 2 ? fresh : vkey;
    const t = TXS[0];
    const req = zy1.sealRequest({ pubB64: key.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload: t.payload(i), ...t.js });
    const opened = cOk('open-request', { key_der_b64: key.derB64, tx: t.tx, body: req.body, ...t.server });
    expectEqual(opened.payload, JSON.parse(t.payload(i)), `round ${i}: C payload`);
    const sealed = cOk('seal-request', { pub_b64: key.pubB64, kid: 'k1', dev: DEV, tx: t.tx, ts: now(), payload: t.payload(i), ek_form: 'raw64', ...t.c });
    expectEqual(zy1.openRequest(key.privHex, t.tx, sealed.body, t.jsFactor).payload, JSON.parse(t.payload(i)), `round ${i}: JS payload`);
  }
});

if (failures.length) {
  console.error(`interop_node: FAIL: ${failures.length} of ${passed + failures.length} checks failed:`);
  for (const f of failures) console.error(`  - ${f}`);
  process.exit(1);
}
console.log(`interop_node: ok, ${passed} checks passed (sm-crypto ${version}, tool ${tool})`);
