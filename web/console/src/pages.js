// pages.js — the console's pages, grouped as the side menu shows them. One
// table: the router and the menu both read it. `roles` limits a page to
// those roles (the server enforces the same; hiding is a courtesy).
const ALL = ['province_admin', 'bank_admin', 'branch_manager'];
const PROVINCE = ['province_admin'];
const ADMINS = ['province_admin', 'bank_admin'];
const AGENT = ['video_agent'];

export const GROUPS = [
  { key: 'org', title: '组织机构' },
  { key: 'ops', title: '运行监控' },
  { key: 'ana', title: '经营分析' },
  { key: 'back', title: '后台支持' },
  { key: 'video', title: '远程协助' },
  { key: 'mdm', title: '设备管理' },
];

export default [
  { path: '/org/banks', group: 'org', title: '法人行', roles: ALL, component: () => import('./views/BanksView.vue') },
  { path: '/org/branches', group: 'org', title: '网点', roles: ALL, component: () => import('./views/BranchesView.vue') },
  { path: '/org/tellers', group: 'org', title: '柜员', roles: ALL, component: () => import('./views/TellersView.vue') },
  { path: '/org/devices', group: 'org', title: '设备', roles: ALL, component: () => import('./views/DevicesView.vue') },
  { path: '/org/tickets', group: 'org', title: '激活码', roles: ALL, component: () => import('./views/TicketsView.vue') },
  { path: '/ops/flow', group: 'ops', title: '流量控制', roles: PROVINCE, component: () => import('./views/FlowLiveView.vue') },
  { path: '/ops/egress', group: 'ops', title: '下游系统', roles: PROVINCE, component: () => import('./views/EgressView.vue') },
  { path: '/ops/audit', group: 'ops', title: '审计日志', roles: ALL, component: () => import('./views/AuditView.vue') },
  { path: '/ana/performance', group: 'ana', title: '业绩报表', roles: ALL, component: () => import('./views/PerformanceView.vue') },
  { path: '/ana/today', group: 'ana', title: '今日看板', roles: ALL, component: () => import('./views/TodayView.vue') },
  { path: '/ana/customers', group: 'ana', title: '客户统计', roles: ALL, component: () => import('./views/CustomersReportView.vue') },
  { path: '/back/customers', group: 'back', title: '客户查询', roles: ALL, component: () => import('./views/CustomersView.vue') },
  { path: '/back/visits', group: 'back', title: '走访记录', roles: ALL, component: () => import('./views/VisitsView.vue') },
  { path: '/back/business', group: 'back', title: '业务查询', roles: ALL, component: () => import('./views/BusinessView.vue') },
  { path: '/back/recordings', group: 'back', title: '双录记录', roles: ADMINS, component: () => import('./views/RecordingsView.vue') },
  { path: '/video/desk', group: 'video', title: '远程协助', roles: AGENT, component: () => import('./views/VideoDeskView.vue') },
  { path: '/video/calls', group: 'video', title: '通话记录', roles: [...ALL, ...AGENT], component: () => import('./views/VideoCallsView.vue') },
  { path: '/mdm/devices', group: 'mdm', title: '设备合规', roles: ALL, component: () => import('./views/MdmDevicesView.vue') },
  { path: '/mdm/commands', group: 'mdm', title: '设备指令', roles: ALL, component: () => import('./views/MdmCommandsView.vue') },
  { path: '/mdm/policy', group: 'mdm', title: '设备策略', roles: ALL, component: () => import('./views/MdmPolicyView.vue') },
].map((p) => ({ ...p, roles: p.roles || ADMINS }));
