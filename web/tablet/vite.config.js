// The tablet app's build: `vite build web/tablet` -> web/dist/tablet.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath, URL } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL('../dist/tablet', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
  },
  // The ZY1 sealing worker (src/zy1/seal.worker.js) is an ES module worker.
  worker: { format: 'es' },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
