// mdm.js — what the device-management pages share: the command kinds and
// states in plain Chinese (docs/api.md §1.21d), and the confirmation texts.
export const KINDS = {
  lock: { label: '锁定', confirm: '锁定后该平板的会话立即结束，柜员须重新登录。确定锁定？' },
  wipe: { label: '清除数据', confirm: '平板收到后将删除本机缓存的全部业务数据（草稿、待发送、待上传），且无法恢复。确定清除？' },
  refresh_policy: { label: '刷新策略', confirm: '平板收到后将立即重新进行安全检查。确定发送？' },
  update_app: { label: '更新应用', confirm: '平板收到后将通过应用商店更新应用。确定发送？' },
  unbind: { label: '解绑', confirm: '平板确认后将被解绑并删除本机数据，须重新激活。确定解绑？' },
};

export const STATES = {
  queued: { label: '待送达', type: 'info' },
  delivered: { label: '已送达', type: 'warning' },
  done: { label: '已完成', type: 'success' },
  failed: { label: '失败', type: 'danger' },
  expired: { label: '已过期', type: 'info' },
};
