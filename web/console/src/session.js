// session.js — who is signed in to the console (Pinia).
import { defineStore } from 'pinia';
import * as api from './api/admin.js';

export const ROLE_NAMES = {
  province_admin: '省级管理员',
  bank_admin: '法人行管理员',
  branch_manager: '网点负责人',
  client_manager: '客户经理',
  video_agent: '远程坐席',
};

export const useSession = defineStore('session', {
  state: () => ({ teller: null, expiresAt: 0 }),
  getters: {
    role: (s) => s.teller?.role || '',
    isProvince: (s) => s.teller?.role === 'province_admin',
    isBankAdmin: (s) => s.teller?.role === 'bank_admin',
  },
  actions: {
    async restore() {
      try {
        const m = await api.me();
        this.teller = m.teller;
        this.expiresAt = m.expires_at;
      } catch {
        this.teller = null;
      }
    },
    async login(code, password) {
      const m = await api.login(code, password);
      this.teller = m.teller;
      this.expiresAt = m.expires_at;
    },
    async logout() {
      await api.logout().catch(() => {});
      this.teller = null;
    },
  },
});
