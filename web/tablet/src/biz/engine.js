// engine.js — the client side of the workflow engine (docs/api.md
// §1.31-1.35): start, read, step and cancel a business, with the typed
// inputs and the unanswered step kept on the device (drafts.js).
//
//   start(kind, customerId)        -> {biz_id, biz_no, ...}  BIZ_START, its cseq kept
//                                     until answered (a double tap or a lost answer
//                                     starts ONE business)
//   load(bizNo)                    -> {biz, draft, error}     BIZ_GET (the server's truth)
//                                     and the draft on this device (deleted once the
//                                     business is completed or cancelled)
//   saveInputs(draft, step, vals)  -> keeps what is typed (every change)
//   sendStep(draft, step, input)   -> BIZ_STEP answer; the cseq is stored with the
//                                     draft BEFORE sending, reused while unanswered,
//                                     dropped once any answer arrives
//   cancel(bizId)                  -> BIZ_CANCEL answer
// Errors are ZyError with `message` in plain Chinese (bizMessage).
import { call, newCseq } from '../zy1/client.js';
import { getDraft, putDraft, deleteDraft } from './drafts.js';
import { bizIdOf, stepOf } from './kinds.js';

const TEXT = {
  biz_not_found: '未找到该笔业务，请从业务列表重新进入。',
  biz_step_out_of_order: '业务进度已在别处更新，已刷新到当前步骤，请继续办理。',
  biz_closed: '该笔业务已结束（已完成或已取消），不能继续办理。',
  biz_check_failed: '核验未通过',
  downstream_refused: '业务系统拒绝办理',
  downstream_unavailable: '业务系统暂时无应答，本步未办理；请稍后点“重新提交”，不会重复办理。',
  biz_kind_unavailable: '该业务暂不可办理，请联系管理员。',
  voucher_not_found: '未找到该电子凭证。',
};

/** The Chinese text of a business error: the server's reason where it gives one. */
export function bizMessage(e) {
  const t = TEXT[e?.code];
  if (!t) return e?.message || '操作未成功，请稍后重试。';
  if (e.code === 'biz_check_failed' || e.code === 'downstream_refused') {
    // The server's reason (explain() made it "<reason>（<code>）").
    const m = /^(.*)（(biz_check_failed|downstream_refused)）$/.exec(e.message || '');
    const why = e.data?.message || (m ? m[1] : '');
    return `${t}${why ? '：' + why : ''}。可修改后重新提交，或取消业务。`;
  }
  return t;
}

/** True when no answer arrived: the same cseq must be sent again. */
export const unanswered = (e) => e?.code === 'network' || e?.http >= 500 || ['unavailable', 'internal', 'busy', 'overloaded', 'in_progress'].includes(e?.code) || /^http_/.test(e?.code || '');

const startKey = (kind, customerId) => `start:${kind}:${customerId || ''}`;

export async function start(kind, customerId) {
  const key = startKey(kind, customerId);
  let d = await getDraft(key);
  if (!d) {
    d = { key, kind, customer_id: customerId || 0, cseq: newCseq(), inputs: {} };
    await putDraft(d);
  }
  const data = { kind };
  if (customerId) data.customer_id = Number(customerId);
  let ans;
  try {
    ans = await call('BIZ_START', data, { cseq: d.cseq });
  } catch (e) {
    if (!unanswered(e)) await deleteDraft(key);
    throw e;
  }
  await putDraft({ key: ans.biz_no, kind, biz_id: ans.biz_id, biz_no: ans.biz_no, inputs: d.inputs || {}, pending: null, last: null });
  await deleteDraft(key);
  return ans;
}

export async function load(bizNo) {
  const id = bizIdOf(bizNo);
  if (!id) throw Object.assign(new Error(TEXT.biz_not_found), { code: 'biz_not_found' });
  const draft = (await getDraft(String(bizNo))) || { key: String(bizNo), biz_id: id, biz_no: String(bizNo), inputs: {}, pending: null, last: null };
  let biz = null;
  let error = null;
  try {
    biz = await call('BIZ_GET', { biz_id: id });
    draft.kind = biz.kind;
    // Ended: what was typed (the ID card's data among it) leaves the device.
    if (biz.status === 'completed' || biz.status === 'cancelled') {
      await deleteDraft(draft.key).catch(() => {});
      draft.inputs = {};
      draft.pending = null;
    }
  } catch (e) {
    error = e;
  }
  return { biz, draft, error };
}

export async function saveInputs(draft, step, values) {
  const s = stepOf(draft.kind, step);
  if (s?.secret) return;
  draft.inputs = { ...draft.inputs, [step]: values };
  await putDraft(draft);
}

export async function sendStep(draft, step, input) {
  const s = stepOf(draft.kind, step);
  const same = draft.pending && draft.pending.step === step && (s?.secret ? !draft.pending.input : JSON.stringify(draft.pending.input) === JSON.stringify(input));
  if (!same) draft.pending = { step, cseq: newCseq(), input: s?.secret ? null : input };
  await putDraft(draft);
  const cseq = draft.pending.cseq;
  try {
    const ans = await call('BIZ_STEP', { biz_id: draft.biz_id, step, input }, { cseq });
    draft.pending = null;
    draft.last = { step, cseq, replayed: !!ans.replayed, at: Date.now() };
    await putDraft(draft);
    return ans;
  } catch (e) {
    if (!unanswered(e)) {
      draft.pending = null;
      await putDraft(draft);
    }
    e.message = bizMessage(e);
    throw e;
  }
}

export async function cancel(bizId) {
  try {
    return await call('BIZ_CANCEL', { biz_id: bizId }, { cseq: newCseq() });
  } catch (e) {
    e.message = bizMessage(e);
    throw e;
  }
}
