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
// The daemon serves the web apps itself (`zhanye serve --web`): web/dist, or
// opts.web (a dist of the test's own), or the dist given to restart().
// opts.extraConf: lines appended to the data directory's zhanye.conf before serve starts.
//
// Environment (set by meson): ZHANYE_BIN, ZHANYE_BUILD_DIR (sims, bridge),
// ZHANYE_WEB_DIST (web/dist), CHROMIUM (default /usr/bin/chromium).
// A test exits 77 (skip) only when Chromium is absent.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, existsSync, openSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

const canBind = (p) =>
  new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(p, '127.0.0.1', () => s.close(() => res(true)));
  });

/**
 * A block of `width` consecutive loopback ports in [lo, hi), all free now,
 * at a random place: the simulators' fixed layouts (scripts/sims.sh: base ..
 * base+109; scripts/devices.sh: base .. base+20) below the kernel's
 * ephemeral range, where `freePort` and other rigs' daemons live.
 */
export async function freeBlock(lo, hi, width) {
  for (let i = 0; i < 200; i++) {
    const base = lo + Math.floor(Math.random() * (hi - lo - width));
    let ok = true;
    for (let p = base; ok && p < base + width; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error(`no ${width} free ports in ${lo}..${hi}`);
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
  try {
    execFileSync(BIN, ['init', '--data', data, opts.demoOrg ? '--demo-org' : '--demo', '--demo-password', PASSWORD], {
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    // what init said, so that a failure here can be told from another
    const said = String(e.stderr || '').split('\n').filter((l) => !l.includes('"level":"info"')).slice(-20).join('\n');
    throw new Error(`zhanye init failed (${e.status ?? e.signal}):\n${said}`);
  }
  symlinkSync(join(ROOT, 'conf'), join(data, 'conf'));
  if (opts.extraConf) appendFileSync(join(data, 'zhanye.conf'), `\n${opts.extraConf}\n`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env };
  if (opts.sims) {
    env.SIM_PORT_BASE = String(await freeBlock(20000, 26800, 110));
    execFileSync(join(ROOT, 'scripts/sims.sh'), ['start', BUILD, data, String(process.pid)], { cwd: ROOT, env, stdio: 'ignore' });
  }
  const log = openSync(join(dir, 'zhanye.log'), 'a');
  const serveArgs = (web) => ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--web', web];
  let web = opts.web || WEB_DIST;
  if (!existsSync(join(web, 'tablet'))) throw new Error(`no web apps at ${web}: build them first (scripts/web.sh, run by make build)`);
  let serve = spawn(BIN, serveArgs(web), { stdio: ['ignore', log, log], env });
  await waitReady(url);
  if (opts.devices) {
    env.DEV_PORT_BASE = String(await freeBlock(27000, 32700, 21));
    execFileSync(join(ROOT, 'scripts/devices.sh'), ['start', BUILD, data, `127.0.0.1:${port}`, String(process.pid)], { cwd: ROOT, env, stdio: 'ignore' });
  }
  const pw = await webImport('playwright-core');
  const chromium = pw.chromium ?? pw.default.chromium;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: opts.chromiumArgs || [] });

  return {
    dir,
    data,
    url,
    apiUrl: url,
    port,
    browser,
    bridgeUrl: opts.devices ? `http://127.0.0.1:${env.DEV_PORT_BASE}` : null,
    cli,
    /** One read-only SQL query of the daemon's SQLite database; its output, trimmed. */
    sql: (q) => execFileSync('sqlite3', ['-readonly', join(data, 'zhanye.db'), q], { encoding: 'utf8' }).trim(),
    /** A fresh context (its own storage = its own tablet) and a page in it, 1280x800 (10-inch landscape). */
    async newPage(ctxOpts = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', ...ctxOpts });
      const page = await context.newPage();
      return { context, page };
    },
    /** Stops `zhanye serve` (the pages stay); restart() starts it again. */
    async stopServe() {
      if (!serve) return;
      const old = serve;
      serve = null;
      if (old.exitCode === null && old.signalCode === null) {
        old.kill('SIGTERM');
        await new Promise((r) => old.once('exit', r));
      }
    },
    /** Restarts `zhanye serve` on the same port and data, on the web apps of newWeb if given (e.g. a new build). */
    async restart(newWeb) {
      await this.stopServe();
      if (newWeb) web = newWeb;
      serve = spawn(BIN, serveArgs(web), { stdio: ['ignore', log, log], env });
      await waitReady(url);
    },
    async stop() {
      await browser.close().catch(() => {});
      serve?.kill('SIGTERM');
      if (opts.devices) execFileSync(join(ROOT, 'scripts/devices.sh'), ['stop', data], { cwd: ROOT, env, stdio: 'ignore' });
      if (opts.sims) execFileSync(join(ROOT, 'scripts/sims.sh'), ['stop', data], { cwd: ROOT, env, stdio: 'ignore' });
      await sleep(200);
      if (!process.env.ZHANYE_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
