import './sw-register.js';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import Vant from 'vant';
import 'vant/lib/index.css';
import App from './App.vue';
import router from './router.js';
import { init as zy1Init } from './zy1/client.js';
import { init as outboxInit } from './zy1/outbox.js';
import { startup as mdmStartup } from './mdm/agent.js';

// The device state, session and outbox load from IndexedDB first (the
// router's guard reads them synchronously).
zy1Init()
  .then(mdmStartup) // the offline limit of device management, before the outbox loads
  .then(outboxInit)
  .catch((e) => console.error('zy1 init failed', e))
  .finally(() => {
    createApp(App).use(createPinia()).use(Vant).use(router).mount('#app');
    // The screens that must work offline are loaded now, while the network is
    // there: the router's lazy import of them then needs no network.
    import('./views/VisitCheckinView.vue');
    import('./views/PendingView.vue');
  });
