// Routes of the visit screens: home, customers, visits, tags, recommendations,
// information collection, performance.
export default [
  { path: '/', component: () => import('../views/HomeView.vue') },
  { path: '/pending', component: () => import('../views/PendingView.vue'), meta: { open: true } }, // viewable logged out: what waits for the login
  { path: '/visit/checkin', component: () => import('../views/VisitCheckinView.vue') },
];
