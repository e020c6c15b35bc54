// bridge.js — the tablet's one peripherals bridge (web/shared/bridge/
// zhanye-bridge.js, docs/peripherals.md): its address and pairing token are
// kept on this device only (localStorage `zhanye.bridge.base` and
// `zhanye.bridge.token`), never sent to the platform; a token the bridge
// refuses is forgotten (the 外设 page pairs again).
import { reactive } from 'vue';
import { createBridge, DEFAULT_BASE } from '../../../shared/bridge/zhanye-bridge.js';

const BASE_KEY = 'zhanye.bridge.base';
const TOKEN_KEY = 'zhanye.bridge.token';

export const DEVICE_NAMES = { idcard: '身份证阅读器', card: '银行卡读卡器', pin: '密码键盘', signature: '签名板', finger: '指纹仪' };
export const DEVICE_STATES = { ready: '就绪', absent: '未连接', busy: '忙' };

/** What the screens show: found/paired and each device's state. */
export const bridgeState = reactive({ checked: false, found: false, paired: false, base: '', devices: [], error: '' });

let bridge = null;

export function savedBase() {
  return localStorage.getItem(BASE_KEY) || DEFAULT_BASE;
}

export function getBridge() {
  if (!bridge) bridge = createBridge({ base: savedBase(), token: localStorage.getItem(TOKEN_KEY) || '' });
  return bridge;
}

/** Looks for the bridge and refreshes bridgeState. */
export async function refresh() {
  const b = getBridge();
  const f = await b.find();
  Object.assign(bridgeState, { checked: true, found: f.found, paired: f.found && f.paired && b.paired, base: f.base || b.base, devices: f.devices, error: '' });
  if (!f.found) bridgeState.error = '未找到外设服务，请确认外设程序已启动，并核对外设服务地址。';
  else if (!f.paired) bridgeState.error = '尚未与外设服务配对，请输入配对令牌。';
  return bridgeState;
}

/** Pairs with base and token (typed or pasted once); keeps both on this device. */
export async function pair(base, token) {
  const at = String(base || DEFAULT_BASE).trim().replace(/\/+$/, '');
  bridge?.unpair();
  bridge = createBridge({ base: at, token: '' });
  const { devices } = await bridge.pair(token);
  localStorage.setItem(BASE_KEY, at);
  localStorage.setItem(TOKEN_KEY, String(token).trim());
  Object.assign(bridgeState, { checked: true, found: true, paired: true, base: at, devices, error: '' });
  return devices;
}

export function unpair() {
  localStorage.removeItem(TOKEN_KEY);
  bridge?.unpair();
  bridge = null;
  Object.assign(bridgeState, { paired: false, devices: [] });
}

/** Runs a device operation; a refused token is forgotten (pair again). */
export async function withBridge(fn) {
  try {
    return await fn(getBridge());
  } catch (e) {
    if (e.code === 'unpaired' && localStorage.getItem(TOKEN_KEY)) unpair();
    throw e;
  }
}

export const deviceState = (name) => bridgeState.devices.find((d) => d.name === name)?.state || null;
