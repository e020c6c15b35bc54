// kinds.js — the client's mirror of the server's workflow tables
// (docs/api.md §1.31, src/business/wf_*.c): for each kind its steps, in the
// server's order, as DATA. One generic wizard (views/BizWizardView.vue)
// renders any of them; nothing here is code per screen.
//
// A step:
//   id       the server's step name (BIZ_STEP `step`)
//   title    what the client manager sees (Chinese)
//   capture  optional: the peripheral or capture the step needs:
//            'idcard' (ID-card reader), 'face' (camera photo), 'bankcard'
//            (bank card reader, into `field`), 'pin' (PIN pad, the PAN from
//            the step `panFrom`), 'signature' (signature pad or the screen)
//   manual   for a device capture: may the value be typed when the device is
//            absent or fails (the bank card number may; an ID card may not:
//            the step needs the chip's photo; a PIN and a signature never)
//   fields   the inputs typed on the form: {name, label, type, required?,
//            options?, when?, placeholder?, min?, max?}; type is one of
//            text | tel | digits | money (yuan typed, fen sent) | int |
//            select | multi (checkboxes) ; `when` {name: value}: shown and
//            sent only when that field has that value; `in` names the
//            nested object the value goes into (loan collateral)
//   action   the button of a step that needs no input (a call the server makes)
//   hint     one line explaining the step
//   secret   the input is never kept on the device (the PIN block)

const IDCARD = { id: 'idcard', title: '读取身份证', capture: 'idcard', manual: false, hint: '请客户将二代身份证放在读卡器上；证件须由读卡器读取（含芯片照片），不可手工录入。' };
const IDCHECK = { id: 'idcheck', title: '联网核查', action: '发起联网核查', hint: '向公安联网核查系统核对姓名与身份证号。' };
const FACE = { id: 'face', title: '人脸识别', capture: 'face', hint: '用平板摄像头拍摄客户正脸照片，与身份证照片比对。' };
const CUSTOMER = { id: 'customer', title: '客户信息', hint: '核心系统查询客户，没有则新建。', fields: [{ name: 'mobile', label: '手机号', type: 'tel', required: true, placeholder: '请输入 11 位手机号', pattern: '^1\\d{10}$' }] };
const SIGNATURE = { id: 'signature', title: '客户签名', capture: 'signature', manual: false, hint: '请客户在签名板上签名，或在平板屏幕上签名。' };
const VOUCHER = { id: 'voucher', title: '生成电子凭证', action: '生成电子凭证', hint: '生成并签章本笔业务的电子凭证。' };
const ACCOUNT_EXISTING = { id: 'account', title: '选择账户', hint: '客户已有的本行账户（10 至 19 位数字）。', fields: [{ name: 'account_no', label: '账号', type: 'digits', required: true, placeholder: '请输入账号', pattern: '^\\d{10,19}$' }] };

export const KINDS = {
  debit_card: {
    title: '借记卡开卡',
    steps: [
      IDCARD, IDCHECK, FACE, CUSTOMER,
      { id: 'account', title: '开立账户', action: '开立账户', hint: '在核心系统为客户开立借记账户。' },
      { id: 'card', title: '绑定银行卡', capture: 'bankcard', field: 'card_no', manual: true, hint: '将新卡插入读卡器读取卡号；读卡器不可用时可手工输入卡号。' },
      { id: 'pin', title: '设置密码', capture: 'pin', panFrom: 'card', manual: false, secret: true, hint: '请客户在密码键盘上输入 6 位密码并确认；密码加密后直接送核心，平板不接触明文。' },
      SIGNATURE, VOUCHER,
    ],
  },
  ebank: {
    title: '电子银行签约',
    steps: [
      IDCARD, IDCHECK, CUSTOMER, ACCOUNT_EXISTING,
      {
        id: 'products', title: '签约产品', hint: '单笔限额不超过日累计限额。',
        fields: [
          { name: 'products', label: '产品', type: 'multi', required: true, options: [['mobile', '手机银行'], ['internet', '网上银行'], ['sms', '短信通知']] },
          { name: 'per_tx_limit', label: '单笔限额（元）', type: 'money', required: true, max: 500000 },
          { name: 'daily_limit', label: '日累计限额（元）', type: 'money', required: true, max: 1000000 },
        ],
      },
      { id: 'sign', title: '签约', action: '提交签约', hint: '在核心系统签订电子银行协议。' },
      SIGNATURE, VOUCHER,
    ],
  },
  loan: {
    title: '信贷业务申请',
    steps: [
      IDCARD, IDCHECK, CUSTOMER,
      {
        id: 'application', title: '贷款申请', hint: '金额以元为单位。',
        fields: [
          { name: 'amount', label: '申请金额（元）', type: 'money', required: true },
          { name: 'term_months', label: '期限（月）', type: 'int', required: true, min: 1, max: 360 },
          { name: 'purpose', label: '用途', type: 'select', required: true, options: [['consumption', '消费'], ['car', '购车'], ['education', '教育'], ['housing', '购房'], ['renovation', '装修'], ['business', '经营'], ['agriculture', '农业生产']] },
          { name: 'type', in: 'collateral', label: '担保方式', type: 'select', options: [['none', '信用（无担保）'], ['house', '房产抵押'], ['car', '车辆抵押'], ['deposit', '存单质押'], ['guarantee', '保证']] },
        ],
      },
      { id: 'prescreen', title: '预审', action: '提交预审', hint: '信贷系统预审。' },
      { id: 'submit', title: '提交申请', action: '提交申请', hint: '向信贷系统提交贷款申请。' },
      SIGNATURE, VOUCHER,
    ],
  },
  credit_card: {
    title: '信用卡申请面签',
    steps: [
      IDCARD, IDCHECK, FACE, CUSTOMER,
      { id: 'apply', title: '申请', hint: '选择信用卡产品。', fields: [{ name: 'product', label: '产品', type: 'select', required: true, options: [['GOLD', '金卡'], ['PLAT', '白金卡']] }] },
      { id: 'form', title: '申请表', hint: '客户签字的申请表照片须先作为客户附件上传，再填写附件编号。', fields: [{ name: 'attachment_id', label: '附件编号', type: 'int', required: true, min: 1 }] },
      { id: 'sign', title: '面签', action: '确认面签', hint: '向信用卡系统确认面对面签约。' },
      SIGNATURE, VOUCHER,
    ],
  },
  social_card: {
    title: '三代社保卡申领激活',
    steps: [
      IDCARD, IDCHECK, FACE, CUSTOMER,
      { id: 'apply', title: '申领', hint: '城市可不填（默认本地）。', fields: [{ name: 'city', label: '城市', type: 'text' }] },
      { id: 'activate', title: '激活', capture: 'bankcard', field: 'card_no', manual: true, hint: '社保卡到达后插入读卡器读取其银行卡号；读卡器不可用时可手工输入。' },
      SIGNATURE, VOUCHER,
    ],
  },
  agency: {
    title: '中间业务签约',
    steps: [
      IDCARD, IDCHECK, CUSTOMER, ACCOUNT_EXISTING,
      {
        id: 'agency', title: '代理业务', hint: '水电燃气电话代缴，或代理保险。',
        fields: [
          { name: 'type', label: '类型', type: 'select', required: true, options: [['utility', '公用事业代缴'], ['insurance', '代理保险']] },
          { name: 'service', label: '缴费项目', type: 'select', required: true, when: { type: 'utility' }, options: [['water', '水费'], ['electricity', '电费'], ['gas', '燃气费'], ['telephone', '电话费']] },
          { name: 'payer_no', label: '缴费号', type: 'text', required: true, when: { type: 'utility' }, pattern: '^[0-9A-Z-]{4,30}$' },
          { name: 'product_code', label: '保险产品代码', type: 'text', required: true, when: { type: 'insurance' }, pattern: '^[0-9A-Z]{6}$' },
          { name: 'policy_holder', label: '投保人', type: 'text', required: true, when: { type: 'insurance' } },
        ],
      },
      SIGNATURE, VOUCHER,
    ],
  },
};

export const STEP_STATE = { pending: '待办理', failed: '未通过', done: '已完成', compensated: '已撤销' };
export const STATUS = { open: '办理中', completed: '已完成', cancelled: '已取消', cancelling: '撤销中' };

export const kindTitle = (kind) => KINDS[kind]?.title || kind;

/** The table's step `id` of `kind` (undefined for an unknown one). */
export const stepOf = (kind, id) => KINDS[kind]?.steps.find((s) => s.id === id);

const shown = (f, values) => !f.when || Object.entries(f.when).every(([k, v]) => values[k] === v);

/** Visible fields of a step for the values typed so far. */
export const visibleFields = (step, values) => (step.fields || []).filter((f) => shown(f, values));

/** First problem of the typed values (Chinese), or ''. */
export function checkFields(step, values) {
  for (const f of visibleFields(step, values)) {
    const v = values[f.name];
    const empty = v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length);
    if (empty) {
      if (f.required) return `请填写${f.label.replace(/（.*）/, '')}`;
      continue;
    }
    if (f.pattern && !new RegExp(f.pattern).test(String(v))) return `${f.label.replace(/（.*）/, '')}格式不正确`;
    if (f.type === 'money' || f.type === 'int') {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || (f.type === 'int' && !Number.isInteger(n))) return `${f.label.replace(/（.*）/, '')}须为正数`;
      if (f.type === 'money' && !/^\d+(\.\d{1,2})?$/.test(String(v))) return `${f.label.replace(/（.*）/, '')}最多两位小数`;
      if (f.min !== undefined && n < f.min) return `${f.label.replace(/（.*）/, '')}不能小于 ${f.min}`;
      if (f.max !== undefined && n > f.max) return `${f.label.replace(/（.*）/, '')}不能超过 ${f.max}`;
    }
  }
  return '';
}

/** The BIZ_STEP `input` of a form step from the typed values. */
export function formInput(step, values) {
  const input = {};
  for (const f of visibleFields(step, values)) {
    let v = values[f.name];
    if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
    if (f.type === 'money') v = Math.round(Number(v) * 100);
    else if (f.type === 'int') v = Number(v);
    else if (typeof v === 'string') v = v.trim();
    if (f.in) (input[f.in] ||= {})[f.name] = v;
    else input[f.name] = v;
  }
  return input;
}

/** Luhn check of a card number. */
export function luhnOk(pan) {
  if (!/^\d{12,19}$/.test(pan || '')) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = Number(pan[pan.length - 1 - i]);
    if (i % 2) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** biz_id from the route's parameter: a 14-digit biz_no (bank 5 + id 9) or a plain id. */
export function bizIdOf(no) {
  const s = String(no || '');
  if (/^\d{14}$/.test(s)) return Number(s.slice(5));
  if (/^\d{1,9}$/.test(s)) return Number(s);
  return 0;
}
