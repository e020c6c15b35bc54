// admin.js — the management API (docs/api.md §2) for the console: the session
// cookie travels by itself (path /api/v1/admin); every POST carries the CSRF
// token and a JSON body. Errors become AdminError with plain-Chinese text.
const BASE = '/api/v1/admin';
let csrf = '';

const TEXT = {
  bad_password: '柜员号或密码错误。',
  teller_locked: '密码错误次数过多，管理台已锁定，请稍后再试。',
  teller_disabled: '该柜员已停用。',
  unauthenticated: '登录已失效，请重新登录。',
  forbidden: '您的角色无权进行此操作。',
  csrf: '页面已过期，请刷新后重试。',
  bad_origin: '请求来源不被允许。',
  not_found: '记录不存在，或不在您的管辖范围内。',
  exists: '代码已被占用，请换一个。',
  conflict: '与现有数据冲突，请检查后重试。',
  not_active: '对象已不是启用状态。',
  weak_password: '密码须为 8 至 128 位。',
  bad_request: '填写的内容有误：',
  busy: '登录请求过多，请稍后再试。',
  unavailable: '数据库繁忙，请稍后重试。',
  reload_failed: '流控规则未能加载，原规则继续生效：',
  too_large: '提交的内容过大。',
  internal: '服务器内部错误，请联系运维。',
  network: '无法连接服务器，请检查网络。',
};

export class AdminError extends Error {
  constructor(code, status, detail = '', reason = '') {
    const base = TEXT[code] || `操作失败（${code}）。`;
    super(code === 'bad_request' || code === 'reload_failed' ? `${base}${detail}` : base);
    this.code = code;
    this.status = status;
    this.reason = reason;
  }
}

let onUnauthenticated = () => {};
export const setUnauthenticatedHandler = (fn) => (onUnauthenticated = fn);

async function request(method, path, body) {
  const headers = {};
  if (method === 'POST') {
    headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let r;
  try {
    r = await fetch(BASE + path, { method, headers, body: method === 'POST' ? JSON.stringify(body || {}) : undefined, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new AdminError('network', 0);
  }
  const text = await r.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    /* not JSON */
  }
  if (!r.ok) {
    const e = json.error || {};
    const err = new AdminError(e.code || `http_${r.status}`, r.status, e.message || e.detail || '', e.reason || '');
    if (err.code === 'unauthenticated') onUnauthenticated(err);
    throw err;
  }
  return json;
}

export const get = (path, query) => request('GET', query ? `${path}?${new URLSearchParams(Object.entries(query).filter(([, v]) => v != null && v !== ''))}` : path);
export const post = (path, body) => request('POST', path, body);

export async function login(teller, password) {
  const me = await post('/login', { teller, password });
  csrf = me.csrf_token;
  return me;
}

/** The session after a page reload (the cookie survives it, the token is derived again). */
export async function me() {
  const m = await get('/me');
  csrf = m.csrf_token;
  return m;
}

export async function logout() {
  try {
    await post('/logout', {});
  } finally {
    csrf = '';
  }
}
