// Routes of the business wizards and vouchers.
export default [
  { path: '/biz/new', component: () => import('../views/BizWizardView.vue') },
  { path: '/biz/:no', component: () => import('../views/BizWizardView.vue') },
  { path: '/voucher/:id', component: () => import('../views/VoucherView.vue') },
  { path: '/settings/devices', component: () => import('../views/DevicesView.vue') },
];
