// Hash history: the app is one cached document (PWA), every route works offline.
import { createRouter, createWebHashHistory } from 'vue-router';
import { device, session } from './zy1/client.js';
import screens from './routes/screens.js';
import business from './routes/business.js';

const routes = [
  { path: '/activate', component: () => import('./views/ActivateView.vue'), meta: { open: true } },
  { path: '/login', component: () => import('./views/LoginView.vue'), meta: { open: true } },
  ...screens,
  ...business,
];

const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach((to) => {
  if (!device().activated && to.path !== '/activate') return '/activate';
  if (!to.meta.open && !session()) return '/login';
  return true;
});

export default router;
