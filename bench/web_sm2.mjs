// web_sm2.mjs — SM2 encrypt of a 32-byte secret (ZY1's `ek`) in Debian's
// Chromium, with each candidate JavaScript library: sm-crypto 0.5.8 and
// sm-crypto-v2 (both from web/node_modules). Bundled by esbuild (vite's own)
// into one page; the median over RUNS samples after WARMUP warm-up samples,
// each sample timing BATCH encryptions (performance.now() is coarsened to
// 0.1 ms in a page that is not cross-origin isolated), divided by BATCH.
// Prints `web_sm2_encrypt_ms_sm_crypto X` and `web_sm2_encrypt_ms_sm_crypto_v2 Y`.
// Run: node bench/web_sm2.mjs   (CHROMIUM overrides /usr/bin/chromium)
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RUNS = Number(process.env.RUNS || 60);
const WARMUP = 10;
const BATCH = 5;
const req = createRequire(join(WEB, 'package.json'));
const load = (name) => import(pathToFileURL(req.resolve(name)).href);

if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM}`);
  process.exit(77);
}
const esbuild = await load('esbuild');
const bundle = await esbuild.build({
  stdin: {
    contents: `import sm1 from 'sm-crypto'; import { sm2 as sm2v2 } from 'sm-crypto-v2';
      window.LIBS = { sm_crypto: sm1.sm2, sm_crypto_v2: sm2v2 };`,
    resolveDir: WEB,
    loader: 'js',
  },
  bundle: true,
  format: 'iife',
  platform: 'browser',
  write: false,
  logLevel: 'error',
});
const pw = await load('playwright-core');
const chromium = pw.chromium ?? pw.default.chromium;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><title>bench</title>');
  await page.addScriptTag({ content: bundle.outputFiles[0].text });
  const out = await page.evaluate(
    ({ RUNS, WARMUP, BATCH }) => {
      const { publicKey } = window.LIBS.sm_crypto_v2.generateKeyPairHex();
      const S = Array.from(crypto.getRandomValues(new Uint8Array(32)));
      const res = {};
      for (const [name, sm2] of Object.entries(window.LIBS)) {
        const times = [];
        for (let i = 0; i < WARMUP + RUNS; i++) {
          let c = '';
          const t0 = performance.now();
          for (let j = 0; j < BATCH; j++) c = sm2.doEncrypt(S, publicKey, 1);
          const t = (performance.now() - t0) / BATCH;
          if (c.length !== 2 * (96 + 32)) throw new Error(`${name}: ${c.length / 2}-byte ciphertext`);
          if (i >= WARMUP) times.push(t);
        }
        times.sort((a, b) => a - b);
        res[name] = times[times.length >> 1];
      }
      return res;
    },
    { RUNS, WARMUP, BATCH },
  );
  for (const [name, ms] of Object.entries(out)) console.log(`web_sm2_encrypt_ms_${name} ${ms.toFixed(2)}`);
} finally {
  await browser.close();
}
