// Hash history under /console/; every page but the login needs a session.
import { createRouter, createWebHashHistory } from 'vue-router';
import { useSession } from './session.js';
import { setUnauthenticatedHandler } from './api/admin.js';
import pages from './pages.js';

const routes = [
  { path: '/login', component: () => import('./views/LoginView.vue'), meta: { open: true } },
  {
    path: '/',
    component: () => import('./views/LayoutView.vue'),
    // the first page the role may open (a video agent has only the 远程协助 pages)
    children: [{ path: '', redirect: () => (pages.find((p) => p.roles.includes(useSession().role)) || pages[0]).path }, ...pages.map((p) => ({ path: p.path.slice(1), component: p.component, meta: p }))],
  },
];

const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach((to) => {
  const s = useSession();
  if (!to.meta.open && !s.teller) return { path: '/login', query: { next: to.fullPath } };
  if (to.meta.roles && !to.meta.roles.includes(s.role)) return '/';
  return true;
});

setUnauthenticatedHandler(() => {
  const s = useSession();
  s.teller = null;
  if (router.currentRoute.value.path !== '/login') router.replace('/login');
});

export default router;
