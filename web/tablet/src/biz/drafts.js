// drafts.js — what the client manager typed in a business, kept on the
// device (IndexedDB, database `zhanye-biz`, store `drafts`) so that a reload,
// an app restart or a lost network never loses a typed field; and the step
// that was sent but not answered yet, with its cseq, so that it is sent
// again with the SAME cseq (the server then runs it once).
//
// A draft: {key, kind, biz_id, biz_no, inputs: {step: {...}}, pending:
// {step, cseq, input} | null, last: {step, cseq, replayed} | null, updated}.
// key is the biz_no, or `start:<kind>:<customer>` for a BIZ_START not yet
// answered. Secret inputs (the PIN block) are never written here.
//
// Not encrypted yet: when the encrypted vault (zy1/vault.js) lands, these
// records move into it (same shape).
const DB = 'zhanye-biz';
const STORE = 'drafts';
let dbp = null;

function db() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const rq = indexedDB.open(DB, 1);
      rq.onupgradeneeded = () => rq.result.createObjectStore(STORE, { keyPath: 'key' });
      rq.onsuccess = () => resolve(rq.result);
      rq.onerror = () => reject(rq.error);
    });
    dbp.catch(() => (dbp = null));
  }
  return dbp;
}

async function run(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const rq = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(rq?.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

const plain = (v) => JSON.parse(JSON.stringify(v ?? null));

export const getDraft = (key) => run('readonly', (s) => s.get(key)).then((d) => d || null);

export function putDraft(draft) {
  return run('readwrite', (s) => s.put(plain({ ...draft, updated: Date.now() })));
}

export const deleteDraft = (key) => run('readwrite', (s) => s.delete(key));

export const listDrafts = () => run('readonly', (s) => s.getAll());
