// report.js — what this tablet reports in DEVICE_CHECKIN (docs/api.md
// §1.21c), from what a browser can know:
//   os           "Android 12" (or the platform) from the user agent;
//   app_version  APP_RELEASE + "+" + the first 8 hex of the build manifest's
//                version (web/build/resources.js), e.g. "1.0.0+3fa9c2d1";
//   apps         [] (a web page cannot list the device's apps);
//   security     what the Android shell reports through
//                window.ZhanyeShell.security() ({rooted, usb_debug,
//                screen_lock, encrypted, bluetooth?, screen_lock_timeout_s?}).
// Without the shell the security facts are unknown, and the server counts an
// unreported fact as not satisfied (business/mdm_eval.h): such a page would
// never be compliant, so it does not check in at all (shellPresent() false,
// agent.js): a device that never checked in is gated only by a policy with
// require_checkin, which then refuses it (checkin_overdue). Only the shell
// can make a tablet a managed device.
export const APP_RELEASE = '1.0.0';

export const shellPresent = () => typeof window.ZhanyeShell?.security === 'function';

export function osOf(ua = navigator.userAgent) {
  const android = /Android\s+([\d.]+)/.exec(ua);
  if (android) return `Android ${android[1]}`;
  const ios = /OS (\d+)_(\d+)/.exec(ua);
  if (ios && /iPad|iPhone/.test(ua)) return `iOS ${ios[1]}.${ios[2]}`;
  return (navigator.platform || 'web').slice(0, 64);
}

let buildp = null;
function build() {
  if (!buildp)
    buildp = fetch('/manifest.json', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : {}))
      .then((m) => (typeof m.version === 'string' ? m.version.slice(0, 8) : ''))
      .catch(() => '');
  return buildp;
}

const BOOL = ['rooted', 'usb_debug', 'screen_lock', 'encrypted', 'bluetooth'];

/** The shell's security facts, only the known members of the right type. */
function security() {
  let s = {};
  try {
    s = window.ZhanyeShell.security() || {};
  } catch {
    s = {};
  }
  const out = {};
  for (const k of BOOL) if (typeof s[k] === 'boolean') out[k] = s[k];
  if (Number.isInteger(s.screen_lock_timeout_s) && s.screen_lock_timeout_s >= 0) out.screen_lock_timeout_s = s.screen_lock_timeout_s;
  return out;
}

/** DEVICE_CHECKIN's data. */
export async function report() {
  const b = await build();
  const r = { os: osOf(), app_version: b ? `${APP_RELEASE}+${b}` : APP_RELEASE, apps: [], security: security() };
  const ssid = window.ZhanyeShell?.wifiSsid?.();
  if (typeof ssid === 'string' && ssid) r.network = { wifi_ssid: ssid.slice(0, 64) };
  return r;
}
