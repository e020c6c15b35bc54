// customer.js — what the customer screens share: the Chinese names of the
// record's codes (docs/api.md §1.8), the checks the server makes, run before
// sending so the manager reads the problem at once, and the recent customers.
import { defineStore } from 'pinia';

export const OCCUPATIONS = { farmer: '农户', migrant_worker: '外出务工', self_employed: '个体经营', employee: '企业职工', civil_servant: '公务员', teacher: '教师', medical: '医务人员', student: '学生', retired: '退休', unemployed: '待业', other: '其他' };
export const INCOME_BANDS = { below_30k: '3万元以下', '30k_100k': '3万至10万元', '100k_300k': '10万至30万元', '300k_1m': '30万至100万元', above_1m: '100万元以上' };
export const PRODUCTS = { deposit: '存款', loan: '贷款', debit_card: '借记卡', credit_card: '信用卡', mobile_banking: '手机银行', insurance: '代理保险', fund: '代理基金', social_security_card: '社保卡', agri_loan: '农户贷款', ebank: '电子银行', social_card: '社保卡', agency: '代理业务' };
export const BIZ_KINDS = { debit_card: '借记卡开卡', ebank: '电子银行签约', loan: '信贷业务申请', credit_card: '信用卡申请面签', social_card: '社保卡申领激活', agency: '中间业务签约' };
export const BIZ_STATUS = { running: '办理中', done: '已完成', failed: '未成功', cancelled: '已取消', compensated: '已撤销' };
export const VERDICTS = { accepted: '接受', declined: '婉拒', later: '以后再说' };

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const PROVINCES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83']);

/** '' when the resident ID number is valid (GB 11643), else what is wrong, in Chinese. */
export function idNoProblem(raw) {
  const v = (raw || '').trim().toUpperCase();
  if (!v) return '请输入身份证号码';
  if (!/^\d{17}[\dX]$/.test(v)) return '身份证号码应为18位（最后一位可为X），请核对';
  const hkmotw = ['81', '82', '83'].includes(v.slice(0, 2));
  if (!PROVINCES.has(v.slice(0, 2)) || (hkmotw ? v.slice(2, 6) !== '0000' : v.slice(2, 6) === '0000')) return '身份证号码的地区码不正确，请核对前六位';
  const y = +v.slice(6, 10), m = +v.slice(10, 12), d = +v.slice(12, 14);
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (y < 1850 || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d || dt.getTime() > Date.now()) return '身份证号码中的出生日期不正确，请核对';
  let s = 0;
  for (let i = 0; i < 17; i++) s += +v[i] * W[i];
  if ('10X98765432'[s % 11] !== v[17]) return '身份证号码校验码不正确，请逐位核对';
  return '';
}

const USCC = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const UW = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
export function usccProblem(raw) {
  const v = (raw || '').trim().toUpperCase();
  if (!v) return '请输入统一社会信用代码';
  if (v.length !== 18 || [...v].some((c) => !USCC.includes(c))) return '统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V），请核对';
  if (!/^[1-9ANY]/.test(v) || !/^\d{6}$/.test(v.slice(2, 8))) return '统一社会信用代码格式不正确，请核对';
  let s = 0;
  for (let i = 0; i < 17; i++) s += USCC.indexOf(v[i]) * UW[i];
  if (USCC[(31 - (s % 31)) % 31] !== v[17]) return '统一社会信用代码校验位不正确，请逐位核对';
  return '';
}

export const phoneProblem = (v) => (!v || /^1[3-9]\d{9}$/.test(v.trim()) ? '' : '手机号码应为11位，以1开头，请核对');

/** Which CUSTOMER_SEARCH key a typed text is. */
export function searchKey(text) {
  const v = text.trim();
  if (/^1[3-9]\d{9}$/.test(v)) return { phone: v };
  if (/^\d{17}[\dXx]$/.test(v)) return { id_no: v.toUpperCase() };
  if (/^[0-9A-Za-z]{18}$/.test(v)) return { uscc: v.toUpperCase() };
  return { name: v };
}

export const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString('zh-CN', { hour12: false }) : '');
export const fmtSize = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

/** The customers opened recently on this tablet (names and ids only, in memory). */
export const useRecent = defineStore('recent', {
  state: () => ({ items: [] }),
  actions: {
    seen(c) {
      this.items = [{ customer_id: c.customer_id, name: c.name, kind: c.kind }, ...this.items.filter((i) => i.customer_id !== c.customer_id)].slice(0, 12);
    },
  },
});
