// The tablet app updates itself only from a manifest the server signed
// (docs/api.md "Web apps": X-Manifest-Signature; web/tablet/src/sw.js
// "SIGNED MANIFEST"). A proxy in front of the real daemon passes, alters or
// strips what the daemon serves and logs every request, so the test sees what
// the service worker asked for.
//
// v1 is the built app (web/dist/tablet, copied); v2 a copy of it with one lazy
// chunk changed and its manifest written again (web/build/resources.js). One
// tablet (one browser context):
//   (a) the first load installs v1 (its manifest verified under the key the
//       server publishes), then the tablet is activated through the UI: the
//       server key is pinned in IndexedDB;
//   (b) the daemon now serves v2, the proxy alters one byte of meaning in
//       manifest.json (a file's hash): the worker downloads nothing of it and
//       stages nothing; v1 stays active;
//   (c) the same with the signature stripped (an unsigned manifest): refused;
//   (d) the genuine signed v2 passes: staged, its changed file downloaded.
//       This is what (b) and (c) would have shown without the check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRig, requireChromium, ROOT, WEB_DIST, sleep } from './lib/rig.mjs';
import { writeResources } from '../../web/build/resources.js';

requireChromium();

const tmp = mkdtempSync(join(tmpdir(), 'zystore'));
let rig, proxy, proxyUrl, context;
let mode = 'pass'; // what the proxy does to /manifest.json: pass | tamper | strip
const log = [];

/** v1: the built app; v2: one lazy chunk (>= 1 KiB, so its .gz is written again) changed. */
function buildTwo() {
  const v1 = join(tmp, 'v1');
  cpSync(join(WEB_DIST, 'tablet'), join(v1, 'tablet'), { recursive: true });
  const v2 = join(tmp, 'v2');
  cpSync(join(v1, 'tablet'), join(v2, 'tablet'), { recursive: true });
  const m = JSON.parse(readFileSync(join(v1, 'tablet/manifest.json'), 'utf8'));
  const leaf = Object.keys(m.files).find((p) => /^\/assets\/\w+View\.js$/.test(p) && !/Activate|Login|Home/.test(p) && readFileSync(join(v1, 'tablet', p)).length >= 1024);
  assert.ok(leaf, 'a lazy view chunk to change');
  appendFileSync(join(v2, 'tablet', leaf), '\n/* v2 */\n');
  const m2 = writeResources(join(v2, 'tablet'), 'tablet');
  return { v1, v2, m1: m, m2, leaf };
}

function startProxy(port) {
  const server = http.createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const manifest = req.url.split('?')[0] === '/manifest.json';
    const headers = { ...req.headers };
    if (manifest) delete headers['accept-encoding']; // the bytes as they are, to alter
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers }, (r) => {
      if (!manifest || mode === 'pass') {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
        return;
      }
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => {
        let body = Buffer.concat(chunks);
        const h = { ...r.headers };
        if (mode === 'tamper') {
          const m = JSON.parse(body.toString('utf8'));
          const p = Object.keys(m.files)[0];
          m.files[p] = '0000000000000000'; // a file of the attacker's
          body = Buffer.from(JSON.stringify(m, null, 1) + '\n');
        } else {
          delete h['x-manifest-signature'];
        }
        h['content-length'] = String(body.length);
        res.writeHead(r.statusCode, h);
        res.end(body);
      });
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

const meta = (page, name) =>
  page.evaluate(async (n) => {
    const r = await (await caches.open('zy-meta-1')).match(`/__zy/${n}`);
    return r ? (await r.json()).version : null;
  }, name);

async function waitMeta(page, name, version) {
  await page.waitForFunction(
    async ([n, v]) => {
      const r = await (await caches.open('zy-meta-1')).match(`/__zy/${n}`);
      return r ? (await r.json()).version === v : false;
    },
    [name, version],
    { timeout: 60000, polling: 100 },
  );
}

/** Waits until the worker asked for the manifest and then nothing more for a second. */
async function settled() {
  const end = Date.now() + 60000;
  while (!log.some((l) => l.startsWith('GET /manifest.json'))) {
    if (Date.now() > end) throw new Error(`no manifest request: ${log.join(', ')}`);
    await sleep(50);
  }
  for (let n = log.length, quiet = 0; quiet < 10; quiet++, await sleep(100)) if (log.length !== n) (n = log.length), (quiet = 0);
}

let b;

before(async () => {
  b = buildTwo();
  rig = await startRig({ web: b.v1 });
  proxy = await startProxy(rig.port);
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
  ({ context } = await rig.newPage());
});

after(async () => {
  proxy?.close();
  await rig?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('(a) v1 installs from its signed manifest; activation pins the server key', async () => {
  assert.notEqual(b.m1.version, b.m2.version);
  const page = await context.newPage();
  await page.goto(proxyUrl + '/');
  await waitMeta(page, 'active', b.m1.version);
  const code = rig.cli('activation', 'issue', '--teller', 'demo01').trim().split('\n').pop().trim();
  await page.getByPlaceholder('请输入柜员号').fill('demo01');
  await page.getByPlaceholder('如 K7QX-9PRM').fill(code);
  await page.getByRole('button', { name: '激活' }).click();
  await page.waitForURL(/#\/login/);
  const pinned = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const r = indexedDB.open('zhanye');
        r.onsuccess = () => {
          const g = r.result.transaction('kv').objectStore('kv').get('device');
          g.onsuccess = () => resolve(g.result && g.result.pub);
        };
      }),
  );
  const served = JSON.parse(await (await fetch(rig.url + '/api/v1/pubkey')).text()).keys[0].pub;
  assert.equal(pinned, served, 'the key the worker checks against is the pinned one');
  await page.close();
});

async function refused(what) {
  mode = what;
  log.length = 0;
  const page = await context.newPage();
  await page.goto(proxyUrl + '/');
  await settled();
  assert.equal(await meta(page, 'staged'), null, `${what}: nothing staged`);
  assert.equal(await meta(page, 'active'), b.m1.version, `${what}: v1 stays active`);
  const fetched = log.filter((l) => l.includes('?v='));
  assert.deepEqual(fetched, [], `${what}: nothing of it downloaded`);
  await page.close();
}

test('(b) an altered manifest is refused: nothing downloaded, v1 stays', async () => {
  await rig.restart(b.v2);
  await refused('tamper');
});

test('(c) an unsigned manifest is refused', async () => {
  await refused('strip');
});

test('(d) the genuine signed v2 is staged', async () => {
  mode = 'pass';
  log.length = 0;
  const page = await context.newPage();
  await page.goto(proxyUrl + '/');
  await waitMeta(page, 'staged', b.m2.version);
  await settled();
  assert.ok(log.includes(`GET ${b.leaf}?v=${b.m2.files[b.leaf]}`), `the changed file was downloaded: ${log.join(' ')}`);
  await page.close();
});
