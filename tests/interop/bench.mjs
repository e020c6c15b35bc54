// bench.mjs — is sm-crypto fast enough to seal requests on the tablet?
// Times the client's work per request: one SM2 encryption of the 32-byte S,
// the HMAC-SM3 key derivation and MAC, and SM4-CBC of a 1 KiB payload.
// Usage: node bench.mjs [iterations, default 100]
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as zy1 from './zy1.mjs';

const N = Number(process.argv[2] ?? 100);
const key = zy1.generateServerKey();
const F = randomBytes(32);
const payload = randomBytes(1024);

function time(name, fn) {
  fn(); // warm up the JIT once
  const t0 = performance.now();
  for (let i = 0; i < N; i++) fn();
  const ms = performance.now() - t0;
  console.log(`${name.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms total  ${(ms / N).toFixed(2).padStart(7)} ms each`);
  return ms;
}

console.log(`sm-crypto, node ${process.version}, ${N} iterations`);
const S = randomBytes(32);
const sm2 = time('SM2 encrypt 32 bytes (ek)', () => zy1.wrapSecret(key.pubB64, S, 'raw64'));
const mac = time('HMAC-SM3: 4 derivations + MAC over ~1.6 KiB', () => {
  const k = zy1.deriveKeys(S, F);
  zy1.hmac(k.kmac, 'x'.repeat(1600));
});
const enc = time('SM4-CBC encrypt 1 KiB', () => zy1.sm4Encrypt(S.subarray(0, 16), S.subarray(16), payload));
console.log(`${'sum (one sealed 1 KiB request)'.padEnd(44)} ${(sm2 + mac + enc).toFixed(1).padStart(8)} ms total  ${((sm2 + mac + enc) / N).toFixed(2).padStart(7)} ms each`);
time('whole sealRequest (1 KiB payload)', () =>
  zy1.sealRequest({ pubB64: key.pubB64, kid: 'k1', dev: '0'.repeat(32), tx: 'CUSTOMER_QUERY', F, ts: Date.now(), payload }),
);
const ek = zy1.wrapSecret(key.pubB64, S, 'raw64');
time('SM2 decrypt 32 bytes (server side, JS)', () => zy1.unwrapSecret(key.privHex, ek));
