// live.js — the Operations screens' one connection: an EventSource on
// GET /api/v1/admin/live (docs/api.md §2.3). Every second an `event: tick`
// carries the flow rules and downstream systems; `event: end` says the
// session ended (the stream then stays closed). The browser reconnects by
// itself after a network break.
import { onBeforeUnmount, ref } from 'vue';

export const END_TEXT = {
  logged_out: '登录已结束，实时数据已停止。',
  expired: '登录已超时，实时数据已停止。',
  role_revoked: '您的角色已无权查看实时数据。',
};

/** state: 'connecting' | 'live' | 'broken' | 'ended'; tick: the last tick; onTick(fn). */
export function useLive() {
  const state = ref('connecting');
  const tick = ref(null);
  const ended = ref('');
  const handlers = [];
  let es = new EventSource('/api/v1/admin/live', { withCredentials: true });
  es.addEventListener('tick', (e) => {
    let t;
    try {
      t = JSON.parse(e.data);
    } catch {
      return;
    }
    state.value = 'live';
    tick.value = t;
    handlers.forEach((fn) => fn(t));
  });
  es.addEventListener('end', (e) => {
    let reason = '';
    try {
      reason = JSON.parse(e.data).reason;
    } catch {
      /* no reason */
    }
    ended.value = END_TEXT[reason] || '实时数据已停止。';
    state.value = 'ended';
    es.close();
  });
  es.onerror = () => {
    if (state.value !== 'ended') state.value = 'broken';
  };
  onBeforeUnmount(() => es?.close());
  return { state, tick, ended, onTick: (fn) => handlers.push(fn) };
}

export const STATE_TAG = {
  connecting: ['连接中', 'info'],
  live: ['实时', 'success'],
  broken: ['连接中断，正在重连', 'warning'],
  ended: ['已停止', 'danger'],
};

export const SOURCE_TEXT = { console: '管理台', 'zhanye.conf': '配置文件', 'built-in': '内置默认' };

/** Checks v (a string or number from a form) is an integer within [min, max]; a Chinese message or ''. */
export function checkInt(label, v, min, max) {
  if (v === '' || v == null) return '';
  const n = Number(v);
  if (!Number.isInteger(n)) return `${label}须为整数`;
  if (n < min || n > max) return `${label}须在 ${min} 到 ${max} 之间`;
  return '';
}
