// drafts.js — what the client manager typed in a business, kept on the
// device so that a reload, an app restart or a lost network never loses a
// typed field; and the step that was sent but not answered yet, with its
// cseq, so that it is sent again with the SAME cseq (the server then runs it
// once).
//
// A draft: {key, kind, biz_id, biz_no, inputs: {step: {...}}, pending:
// {step, cseq, input} | null, last: {step, cseq, replayed} | null, updated}.
// key is the biz_no, or `start:<kind>:<customer>` for a BIZ_START not yet
// answered. Secret inputs (the PIN block) are never written here.
//
// Drafts hold customer data (ID card, card number, signature): they live in
// the encrypted vault (zy1/vault.js, AES-GCM under a non-extractable key),
// under the names `biz.draft.<key>`, and go with vault.wipeAll().
import * as vault from '../zy1/vault.js';

const PREFIX = 'biz.draft.';
const plain = (v) => JSON.parse(JSON.stringify(v ?? null));

export const getDraft = async (key) => (await vault.get(PREFIX + key)) || null;

export const putDraft = (draft) => vault.put(PREFIX + draft.key, plain({ ...draft, updated: Date.now() }));

export const deleteDraft = (key) => vault.delete(PREFIX + key);

export async function listDrafts() {
  const names = await vault.keys(PREFIX);
  return (await Promise.all(names.map((n) => vault.get(n)))).filter(Boolean);
}
