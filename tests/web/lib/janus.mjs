// janus.mjs — a real Janus for browser tests: scripts/janus-run.sh (the
// VideoRoom plugin and the HTTP transport on a free loopback port, an API
// secret of the test's own) in a temp dir; stopped by stop().
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, sleep } from './rig.mjs';

/** Exits 77 (skip) when the janus binary is absent (scripts/deps.sh installs it). */
export function requireJanus() {
  for (const bin of ['janus', 'janus-pp-rec']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      console.log(`skip: no ${bin} (Debian janus, janus-tools; scripts/deps.sh installs them)`);
      process.exit(77);
    }
  }
}

export async function startJanus() {
  requireJanus();
  const dir = mkdtempSync(join(tmpdir(), 'zyjanus'));
  const port = await freePort();
  const secret = `s${Math.random().toString(16).slice(2)}`;
  const proc = spawn(join(ROOT, 'scripts/janus-run.sh'), [dir, String(port), secret], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/janus`;
  const end = Date.now() + 30000;
  for (;;) {
    try {
      const r = await fetch(url, { method: 'POST', body: JSON.stringify({ janus: 'info', transaction: 'x', apisecret: secret }) });
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`janus did not start (see ${dir}/janus.log)`);
    await sleep(100);
  }
  return {
    dir,
    url,
    secret,
    conf: `[video]\njanus_url = ${url}\njanus_api_secret = ${secret}\n`,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      if (!process.env.ZHANYE_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
