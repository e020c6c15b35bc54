// The tablet app's files on the device (web/tablet/src/sw.js, web/build/
// resources.js, `zhanye serve --web`), counted where they reach the server: a
// counting proxy in front of the real daemon logs every request (Chromium's
// own request events miss what the service worker does).
//
// Two builds of the app made here, into temp dirs (the source tree is not
// touched): v1 from web/tablet, v2 from a copy where one leaf component
// (ActivateView.vue) has a marker element more. Their manifests differ in
// exactly one file. Then, one tablet (one browser context):
//   (a) the first load shows the activation screen and downloads no file twice;
//   (b) a restart of the app (page closed, opened again) asks the server for
//       one app file only: /manifest.json;
//   (c) the daemon restarted on v2: the next start downloads the manifest and
//       the one changed file and still shows v1; the start after that shows
//       v2 and downloads only the manifest, while the page still open from
//       before keeps getting v1's files;
//   (d) the daemon stopped: the app still starts, from the cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRig, requireChromium, ROOT, sleep } from './lib/rig.mjs';

requireChromium();

const WEB = join(ROOT, 'web');
const tmp = mkdtempSync(join(tmpdir(), 'zyres'));
let rig, proxy, proxyUrl, context;
const log = []; // "GET /path?query" of every request that reached the proxy
const status = []; // the status of each answered request of log, same index

function vite(cwd, outDir) {
  execFileSync(join(WEB, 'node_modules/.bin/vite'), ['build', 'tablet', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** v1 from the tree, v2 from a copy with one leaf component changed; returns the two web roots. */
function buildTwo() {
  const v1 = join(tmp, 'v1');
  vite(WEB, join(v1, 'tablet'));
  const copy = join(tmp, 'src');
  cpSync(join(WEB, 'tablet'), join(copy, 'tablet'), { recursive: true });
  for (const d of ['node_modules', 'build', 'shared']) symlinkSync(join(WEB, d), join(copy, d));
  cpSync(join(WEB, 'package.json'), join(copy, 'package.json'));
  const leaf = join(copy, 'tablet/src/views/ActivateView.vue');
  const src = readFileSync(leaf, 'utf8');
  const changed = src.replace(/(<template>\s*<[a-zA-Z][\w-]*[^>]*>)/, '$1<span hidden data-zy-build="2"></span>');
  assert.notEqual(changed, src, 'the marker went into ActivateView.vue');
  writeFileSync(leaf, changed);
  const v2 = join(tmp, 'v2');
  vite(copy, join(v2, 'tablet'));
  return { v1, v2 };
}

const manifestOf = (root) => JSON.parse(readFileSync(join(root, 'tablet/manifest.json'), 'utf8'));

function startProxy(port) {
  const server = http.createServer((req, res) => {
    const i = log.push(`${req.method} ${req.url}`) - 1;
    const up = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      status[i] = r.statusCode;
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** The requests for the app's files (not the API, not the browser's own check of sw.js); only those answered 200 with downloads. */
function appRequests(files, downloads = false) {
  return log
    .map((l, i) => (downloads && status[i] !== 200 ? '' : l.split(' ')[1]))
    .filter((u) => {
      const path = u.split('?')[0];
      return path === '/manifest.json' || path === '/' || files[path] !== undefined;
    });
}

/** The worker's state, read from its caches in the page. */
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

/** Waits until the log holds /manifest.json, and the worker is idle (no request for a while). */
async function quiet() {
  for (let n = log.length, q = 0; q < 10; q++, await sleep(100)) if (log.length !== n) (n = log.length), (q = 0);
}

async function settled() {
  const end = Date.now() + 60000;
  while (!log.some((l) => l.startsWith('GET /manifest.json'))) {
    if (Date.now() > end) throw new Error(`no manifest request: ${log.join(', ')}`);
    await sleep(50);
  }
  for (let n = log.length, quiet = 0; quiet < 10; quiet++, await sleep(100)) if (log.length !== n) (n = log.length), (quiet = 0);
}

/** Waits until the worker's file cache holds every file of manifest m (as "/path?v=<hash>"). */
async function waitFilled(page, m) {
  const want = Object.entries(m.files).map(([p, h]) => `${p}?v=${h}`);
  await page.waitForFunction(
    async (w) => {
      const have = new Set((await (await caches.open('zy-files-1')).keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search));
      return w.every((k) => have.has(k));
    },
    want,
    { timeout: 60000, polling: 100 },
  );
}

async function startApp() {
  const page = await context.newPage();
  await page.goto(proxyUrl + '/');
  await page.getByPlaceholder('请输入柜员号').waitFor({ timeout: 60000 });
  return page;
}

let builds, m1, m2, changed;

before(async () => {
  builds = buildTwo();
  m1 = manifestOf(builds.v1);
  m2 = manifestOf(builds.v2);
  changed = Object.keys(m2.files).filter((p) => m1.files[p] !== m2.files[p]);
  rig = await startRig({ web: builds.v1 });
  proxy = await startProxy(rig.port);
  proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
  ({ context } = await rig.newPage());
});

after(async () => {
  proxy?.close();
  await rig?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('changing one leaf component changes exactly one built file', () => {
  assert.notEqual(m1.version, m2.version);
  assert.deepEqual(changed, ['/assets/ActivateView.js']);
});

test('(a) the first load works and downloads no file twice; the worker caches the rest', async () => {
  const page = await startApp();
  await waitMeta(page, 'active', m1.version);
  await waitFilled(page, m1);
  await quiet(); // the proxy may log the last of the worker's requests after its cache shows them
  // A revalidation (304: the page's HTTP cache, e.g. the favicon) is no download.
  const got = appRequests(m1.files, true).map((u) => u.split('?')[0]);
  for (const p of new Set(got)) assert.ok(got.filter((g) => g === p).length <= 1, `${p} downloaded twice: ${got}`);
  for (const p of Object.keys(m1.files)) if (p !== '/index.html') assert.ok(got.includes(p), `${p} was never fetched; fetched: ${got.join(" ")}`);
  await page.close();
});

test('(b) a restart with a warm cache asks for the manifest only', async () => {
  log.length = 0;
  const page = await startApp();
  await settled();
  assert.deepEqual(appRequests(m1.files), ['/manifest.json']);
  await page.close();
});

test('(c) a new build: the manifest and the one changed file, the new version at the next start', async () => {
  await rig.restart(builds.v2);
  log.length = 0;
  let page = await startApp();
  await waitMeta(page, 'staged', m2.version);
  await settled();
  assert.deepEqual(appRequests(m2.files).sort(), ['/manifest.json', `${changed[0]}?v=${m2.files[changed[0]]}`].sort());
  assert.equal(await page.locator('[data-zy-build="2"]').count(), 0, 'still v1 in the page that started with it');

  // The next start (a second page; the first one stays open, a business in progress).
  log.length = 0;
  const next = await startApp();
  await next.locator('[data-zy-build="2"]').waitFor({ state: 'attached', timeout: 30000 });
  await settled();
  assert.deepEqual(appRequests(m2.files), ['/manifest.json']);
  assert.equal(await meta(next, 'active'), m2.version);
  // What the first page loads from now on is still v1's, from the cache.
  const chunk = await page.evaluate(async (p) => (await fetch(p)).text(), changed[0]);
  assert.ok(!chunk.includes('data-zy-build'), 'the page that started with v1 gets v1 chunks');
  assert.ok((await next.evaluate(async (p) => (await fetch(p)).text(), changed[0])).includes('data-zy-build'));
  assert.deepEqual(appRequests(m2.files), ['/manifest.json']);
  await page.close();
  await next.close();
});

test('(d) the daemon stopped: the app shell starts from the cache', async () => {
  await rig.stopServe();
  const page = await startApp();
  assert.equal(await page.locator('[data-zy-build="2"]').count(), 1);
  await page.close();
});
