// Registers the service worker (src/sw.js, built as /sw.js; an ES module) that keeps the app's files on
// the tablet: after the page has loaded, so the first visit's downloads come
// first. Not in `vite` dev mode (its files change all the time), nor where
// the browser has no service workers (the app then simply loads from the
// network).
if (!import.meta.env.DEV && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'all', type: 'module' }).catch(() => {});
  });
}
