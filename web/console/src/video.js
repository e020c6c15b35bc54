// video.js — what the 远程协助 pages share: the call outcome and state words,
// the business kinds, and the agent's event stream (GET /api/v1/admin/video/stream,
// docs/api.md §2.3): `queue`, `call`, `signal`, `end`.
import { onBeforeUnmount, ref } from 'vue';

export const STATE = { queued: '排队中', ringing: '接通中', connected: '通话中', ended: '已结束' };
export const OUTCOME = { completed: '正常结束', abandoned: '客户经理取消', dropped: '网络中断', rejected: '坐席拒接' };
export const BIZ_KINDS = { debit_card: '借记卡开卡', ebank: '电子银行签约', loan: '贷款申请', credit_card: '信用卡申请', social_card: '社保卡', agency: '代理业务' };
export const BIZ_STATUS = { open: '办理中', completed: '已完成', cancelling: '撤销中', cancelled: '已撤销' };

export const fmtDur = (ms) => {
  const s = Math.round((ms || 0) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} 分 ${s % 60} 秒` : `${s} 秒`;
};

/** state: 'connecting' | 'live' | 'broken' | 'ended'; on(event, fn). */
export function useVideoStream() {
  const state = ref('connecting');
  const ended = ref('');
  const handlers = { queue: [], call: [], signal: [] };
  const es = new EventSource('/api/v1/admin/video/stream', { withCredentials: true });
  for (const name of Object.keys(handlers)) {
    es.addEventListener(name, (e) => {
      let d;
      try {
        d = JSON.parse(e.data);
      } catch {
        return;
      }
      state.value = 'live';
      handlers[name].forEach((fn) => fn(d));
    });
  }
  es.onopen = () => (state.value = 'live');
  es.addEventListener('end', () => {
    ended.value = '登录已结束，请重新登录。';
    state.value = 'ended';
    es.close();
  });
  es.onerror = () => {
    if (state.value !== 'ended') state.value = 'broken';
  };
  onBeforeUnmount(() => es.close());
  return { state, ended, on: (name, fn) => handlers[name].push(fn) };
}
