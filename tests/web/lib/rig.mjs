// rig.mjs — the real platform for browser tests: `zhanye init --demo` in a
// temp dir, `zhanye serve` on a free loopback port, optionally the bank's
// system simulators (scripts/sims.sh) and the peripherals bridge with its
// device simulators (scripts/devices.sh), and Debian's Chromium driven by
// playwright-core. Nothing is mocked: the pages talk ZY1 to the real daemon.
//
//   const rig = await startRig({ sims: true, devices: true });
//   const { page } = await rig.newPage();      // a fresh browser context
//   await page.goto(rig.url + '/');
//   rig.cli('activation', 'issue', '--teller', 'demo01')  -> stdout (string)
//   await rig.stop();
//
// Environment (set by meson): ZHANYE_BIN, ZHANYE_BUILD_DIR (sims, bridge),
// ZHANYE_WEB_DIST (web/dist), CHROMIUM (default /usr/bin/chromium).
// A test exits 77 (skip) only when Chromium is absent.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.ZHANYE_BIN || join(ROOT, 'build/zhanye');
export const BUILD = process.env.ZHANYE_BUILD_DIR || dirname(BIN);
export const WEB_DIST = process.env.ZHANYE_WEB_DIST || join(ROOT, 'web/dist');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const PASSWORD = 'Zhanye@2026';

/** An npm package of web/ (web/node_modules, from web/package-lock.json), for the tests under tests/web/. */
export function webImport(name) {
  const req = createRequire(join(ROOT, 'web/package.json'));
  return import(pathToFileURL(req.resolve(name)).href);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

/** Skips the test (exit 77) when the machine has no Chromium. */
export function requireChromium() {
  if (!existsSync(CHROMIUM)) {
    console.log(`skip: no Chromium at ${CHROMIUM} (scripts/deps.sh installs it)`);
    process.exit(77);
  }
}

async function waitReady(url, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`zhanye did not become ready at ${url}`);
}

export async function startRig(opts = {}) {
  requireChromium();
  const dir = mkdtempSync(join(tmpdir(), 'zyweb'));
  const data = join(dir, 'var');
  const cli = (...args) => execFileSync(BIN, [args[0], ...args.slice(1), '--data', data], { encoding: 'utf8' });
  execFileSync(BIN, ['init', '--data', data, opts.demoOrg ? '--demo-org' : '--demo', '--demo-password', PASSWORD], { stdio: 'ignore' });
  symlinkSync(join(ROOT, 'conf'), join(data, 'conf'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  if (opts.sims) {
    env.SIM_PORT_BASE = String(20000 + (port % 20000));
    execFileSync(join(ROOT, 'scripts/sims.sh'), ['start', BUILD, data, String(process.pid)], { cwd: ROOT, env, stdio: 'ignore' });
  }
  const log = openSync(join(dir, 'zhanye.log'), 'a');
  const serveArgs = ['serve', '--data', data, '--listen', `127.0.0.1:${port}`];
  // `--web` is new: an older binary refuses it (exit 2), and the stand-in below serves the app.
  try {
    execFileSync(BIN, [...serveArgs, '--web', WEB_DIST, '--check-config'], { stdio: 'ignore' });
    serveArgs.push('--web', WEB_DIST);
  } catch {
    /* no --web */
  }
  let serve = spawn(BIN, serveArgs, { stdio: ['ignore', log, log], env });
  await waitReady(url);
  if (opts.devices) {
    env.DEV_PORT_BASE = String(21000 + (port % 20000));
    execFileSync(join(ROOT, 'scripts/devices.sh'), ['start', BUILD, data, `127.0.0.1:${port}`, String(process.pid)], { cwd: ROOT, env, stdio: 'ignore' });
  }
  // A zhanye without static serving (older build): a loopback stand-in that
  // serves web/dist/tablet and passes /api/ to the daemon, same origin.
  let front = null;
  let pageUrl = url;
  if ((await fetch(`${url}/`).then((r) => r.status).catch(() => 0)) === 404) {
    front = await staticFront(join(WEB_DIST, 'tablet'), port);
    pageUrl = `http://127.0.0.1:${front.address().port}`;
  }
  const pw = await webImport('playwright-core');
  const chromium = pw.chromium ?? pw.default.chromium;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: opts.chromiumArgs || [] });

  return {
    dir,
    data,
    url: pageUrl,
    apiUrl: url,
    port,
    browser,
    bridgeUrl: opts.devices ? `http://127.0.0.1:${env.DEV_PORT_BASE}` : null,
    cli,
    /** A fresh context (its own storage = its own tablet) and a page in it, 1280x800 (10-inch landscape). */
    async newPage(ctxOpts = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', ...ctxOpts });
      const page = await context.newPage();
      return { context, page };
    },
    /** Restarts `zhanye serve` on the same port and data (e.g. after a new web build). */
    async restart() {
      const old = serve;
      old.kill('SIGTERM');
      await new Promise((r) => old.once('exit', r));
      serve = spawn(BIN, serveArgs, { stdio: ['ignore', log, log], env });
      await waitReady(url);
    },
    async stop() {
      await browser.close().catch(() => {});
      front?.close();
      serve.kill('SIGTERM');
      if (opts.devices) execFileSync(join(ROOT, 'scripts/devices.sh'), ['stop', data], { cwd: ROOT, env, stdio: 'ignore' });
      if (opts.sims) execFileSync(join(ROOT, 'scripts/sims.sh'), ['stop', data], { cwd: ROOT, env, stdio: 'ignore' });
      await sleep(200);
      if (!process.env.ZHANYE_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.webmanifest': 'application/manifest+json' };

function staticFront(root, apiPort) {
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.startsWith('/api/') || path === '/readyz' || path === '/healthz') {
      const up = http.request({ host: '127.0.0.1', port: apiPort, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
      return;
    }
    // /console/ is the management console (web/dist/console), the rest the tablet app.
    const con = path === '/console' || path.startsWith('/console/');
    const base = con ? join(dirname(root), 'console') : root;
    const rel = con ? path.slice('/console'.length) || '/' : path;
    const file = join(base, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    const ext = file.slice(file.lastIndexOf('.'));
    res.writeHead(200, { 'Content-Type': TYPES[ext] || 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}
