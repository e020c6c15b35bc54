// errors.js — every error code a client manager can meet, in plain Chinese,
// with what to do next. One table; explain() never returns an empty string.
const TEXT = {
  network: '网络连接失败，请检查网络后重试；已填写的内容不会丢失。',
  bad_code: '激活码格式不对：应为 8 位字母和数字（如 K7QX-9PRM），请核对后重新输入。',
  bad_teller: '柜员号格式不对，请核对后重新输入。',
  not_activated: '本设备尚未激活，请先用激活码激活。',
  bad_envelope: '请求格式错误，请重启应用后重试；如仍失败请联系运维。',
  bad_mac: '校验失败：激活码或设备密钥不正确。请核对激活码，或请管理员重新签发。',
  storage: '本机存储不可用（可能处于无痕模式或存储空间已满）：请关闭无痕模式或清理空间后重启应用。',
  client_error: '应用内部错误，请重启应用后重试；已保存的内容不会丢失。如仍失败请联系运维。',
  bad_answer: '服务器应答未通过校验（可能在传输中被篡改或损坏），本次结果不予采信；请稍后重试，已提交的内容不会重复办理。',
  bad_payload: '请求内容无法识别，请重启应用后重试。',
  unknown_tx: '服务端不支持此交易，请升级应用。',
  unknown_key: '服务器密钥已更换，请联系管理员后重新激活设备。',
  stale: '设备时间与服务器相差过大，请校准时间后重试。',
  replay: '重复的请求已被拒绝，请重试。',
  busy: '系统繁忙，请稍后重试。',
  overloaded: '系统繁忙，请稍后重试。',
  unavailable: '服务暂时不可用，请稍后重试；已提交的内容不会重复办理。',
  internal: '服务器内部错误，请稍后重试；如仍失败请联系运维。',
  device_unknown: '设备或激活码无效：请确认柜员号正确，或请管理员重新签发激活码。',
  device_blocked: '本设备已被停用或解绑，请联系管理员后重新激活。',
  device_conflict: '本设备已绑定其他柜员，请联系管理员解绑后再激活。',
  device_not_bound: '本设备未绑定该柜员，请确认柜员号，或重新激活设备。',
  activation_invalid: '激活码已过期或已使用，请管理员重新签发。',
  teller_disabled: '该柜员已停用，请联系管理员。',
  teller_locked: '密码错误次数过多，账号已锁定，请稍后再试或联系管理员。',
  bad_password: '柜员号或密码错误，请重新输入。',
  weak_password: '新密码须为 8 至 128 位，且不能与旧密码相同。',
  session_invalid: '登录已失效，请重新登录。',
  session_expired: '长时间未操作，登录已超时，请重新登录。',
  in_progress: '上一次提交仍在处理中，请稍候再查看结果。',
  bad_request: '填写的内容有误，请检查后重新提交。',
  forbidden: '您没有权限办理此业务。',
  not_found: '未找到相关记录。',
  device_noncompliant: '本设备不符合安全策略，暂不能办理业务：请按页面顶部的提示处理后点击「重新检查」；已填写的内容不会丢失。',
  customer_not_found: '未找到该客户，请核对后重试。',
  video_call_not_found: '未找到该视频通话，请返回后重新发起远程协助。',
  video_call_ended: '通话已结束；如需继续协助，请重新发起远程协助。',
  conflict: '记录已被他人修改，请刷新后重新编辑。',
  discarded: '该条记录已删除，未上传。',
  too_large: '文件过大，请压缩后重新上传。',
};

const REASONS = {
  signed_in_elsewhere: '您的账号已在其他设备登录，请重新登录。',
  password_changed: '密码已在其他设备修改，请用新密码登录。',
  password_reset: '管理员已重置您的密码，请用新密码登录。',
  device_revoked: '本设备已被停用，请联系管理员。',
  device_unbound: '本设备已被解绑，请重新激活。',
  device_locked: '管理员已锁定本设备，请重新登录。',
  device_reactivated: '本设备已重新激活，请重新登录。',
  logged_out: '您已退出登录，请重新登录。',
  idle_timeout: '长时间未操作，登录已超时，请重新登录。',
  absolute_timeout: '登录时间已到上限，请重新登录。',
};

/** The Chinese text for code (detail: the server's message, shown for bad_request). */
export function explain(code, data = {}, detail = '') {
  if (data && REASONS[data.reason]) return REASONS[data.reason];
  const t = TEXT[code];
  if (t && code === 'bad_request' && detail) return `${t}（${detail}）`;
  if (t) return t;
  return detail ? `${detail}（${code}）` : `操作未成功（${code}），请稍后重试或联系管理员。`;
}
