// Routes of the visit screens: home, customers, visits, tags, recommendations,
// information collection, performance.
export default [
  // Visit screens (web-screens): every view loaded on first use.
  { path: '/', component: () => import('../views/HomeView.vue') },
  { path: '/pending', component: () => import('../views/PendingView.vue'), meta: { open: true } }, // viewable logged out: what waits for the login
  { path: '/visit/checkin', component: () => import('../views/VisitCheckinView.vue') },
  { path: '/customers', component: () => import('../views/CustomersView.vue') },
  { path: '/customers/new', component: () => import('../views/CustomerEditView.vue') },
  { path: '/customers/:id(\\d+)', component: () => import('../views/CustomerView.vue'), props: true },
  { path: '/customers/:id(\\d+)/edit', component: () => import('../views/CustomerEditView.vue'), props: true },
  { path: '/customers/:id(\\d+)/collect', component: () => import('../views/CollectView.vue'), props: true },
  { path: '/perf', component: () => import('../views/PerfView.vue') },
  { path: '/video', component: () => import('../views/VideoCallView.vue') }, // 远程协助: ?customer=&biz=&biz_no=&record=1
];
