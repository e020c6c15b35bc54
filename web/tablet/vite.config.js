// The tablet app's build: `vite build web/tablet` -> web/dist/tablet.
// Stable file names and manifest.json + .gz copies (web/build/resources.js):
// the service worker (src/sw.js, built as /sw.js) downloads only what changed.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath, URL } from 'node:url';
import { resources, stableNames } from '../build/resources.js';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  // Scoped-style ids from the file's path alone: a template change leaves its CSS as it is.
  plugins: [vue({ features: { componentIdGenerator: 'filepath' } }), resources({ app: 'tablet' })],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../dist/tablet', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    // The service worker (src/sw.js) is an entry of its own, written as /sw.js:
    // an ES module worker that imports sm-crypto-v2 (it verifies the signed
    // manifest), so the page's bundle carries no SM code.
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        sw: fileURLToPath(new URL('./src/sw.js', import.meta.url)),
      },
      output: { ...stableNames(), entryFileNames: (c) => (c.name === 'sw' ? 'sw.js' : 'assets/[name].js') },
    },
  },
  // The ZY1 sealing worker (src/zy1/seal.worker.js) is an ES module worker.
  worker: { format: 'es', rollupOptions: { output: stableNames() } },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
