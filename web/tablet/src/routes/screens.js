// Routes of the visit screens: home, customers, visits, tags, recommendations,
// information collection, performance.
export default [
  { path: '/', component: () => import('../views/HomeView.vue') },
];
