// resources.js — the Vite plugin every web app's build uses (web/<app>/vite.config.js).
//
// After the bundle is written it walks the output directory and writes:
//   - manifest.json = {"app", "version", "built", "files": {"/path": "<hash>", ...}}
//     listing every file but itself, sw.js and the .gz copies. A file's hash is
//     the first 16 hex characters of the SM3 of its bytes: the same as the
//     server's ETag (src/http/static.h). version is the first 16 hex of the SM3
//     of the lines "<path> <hash>\n" in path order, so it changes when any file
//     changes, appears or goes;
//   - NAME.gz (node:zlib, level 9) next to every file of at least 1 KiB, which
//     `zhanye serve --web` sends to clients that accept gzip.
// The app's service worker (web/tablet/src/sw.js, built as /sw.js) reads manifest.json to
// download only the files whose hash changed.
//
// stableNames() is the output naming that goes with it: no content hash in
// file names, so a change to one source file changes only the files built from
// it, never the files that import them (Rollup numbers colliding names).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

export const HASH_LEN = 16;
const GZIP_MIN = 1024;
const UNLISTED = new Set(['/manifest.json', '/sw.js']);

/** The hash of a file's bytes, as the server's ETag. */
export function fileHash(bytes) {
  return createHash('sm3').update(bytes).digest('hex').slice(0, HASH_LEN);
}

/** The version over a manifest's files ({path: hash}). */
export function versionOf(files) {
  const lines = Object.keys(files)
    .sort()
    .map((p) => `${p} ${files[p]}\n`)
    .join('');
  return createHash('sm3').update(lines).digest('hex').slice(0, HASH_LEN);
}

function walk(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else out.push(full);
  }
  return out;
}

/** Writes manifest.json and the .gz copies into outDir; returns the manifest. */
export function writeResources(outDir, app) {
  const files = {};
  const all = walk(outDir).filter((f) => !f.endsWith('.gz'));
  for (const full of all) {
    const path = '/' + relative(outDir, full).split(sep).join('/');
    if (!UNLISTED.has(path)) files[path] = fileHash(readFileSync(full));
  }
  const sorted = Object.fromEntries(Object.keys(files).sort().map((p) => [p, files[p]]));
  const manifest = { app, version: versionOf(sorted), built: new Date().toISOString(), files: sorted };
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
  for (const full of [...all, join(outDir, 'manifest.json')]) {
    const bytes = readFileSync(full);
    if (bytes.length >= GZIP_MIN) writeFileSync(full + '.gz', gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }));
  }
  return manifest;
}

/** Rollup output names without content hashes (see above). */
export function stableNames() {
  return {
    entryFileNames: 'assets/[name].js',
    chunkFileNames: 'assets/[name].js',
    assetFileNames: 'assets/[name][extname]',
    // Exports between chunks keep their own names: a chunk that starts to use
    // one more export of a shared chunk does not rename the others' imports.
    minifyInternalExports: false,
  };
}

/** The plugin: resources({ app: 'tablet' }). */
export function resources({ app }) {
  let outDir;
  return {
    name: 'zhanye-resources',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const m = writeResources(outDir, app);
      this.info?.(`manifest.json: ${Object.keys(m.files).length} files, version ${m.version}`);
    },
  };
}
