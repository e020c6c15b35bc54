// use.js — small composables shared by the pages.
import { ref } from 'vue';
import { ElMessage } from 'element-plus';
import { useSession } from './session.js';

/** A list loaded from the API: rows, loading, error, reload(). */
export function useList(fetcher) {
  const rows = ref([]);
  const loading = ref(false);
  const error = ref('');
  async function reload() {
    loading.value = true;
    error.value = '';
    try {
      rows.value = await fetcher();
    } catch (e) {
      error.value = e.message;
      rows.value = [];
    } finally {
      loading.value = false;
    }
  }
  reload();
  return { rows, loading, error, reload };
}

/** Runs a write; a success toast, or the error's plain-Chinese text. Returns the answer or null. */
export async function act(fn, okText) {
  try {
    const r = await fn();
    if (okText) ElMessage.success(okText);
    return r;
  } catch (e) {
    ElMessage.error(e.message);
    return null;
  }
}

/** The banks filter a province administrator may choose (others see only their own). */
export function bankFilter() {
  const s = useSession();
  return ref(s.isProvince ? '' : s.teller?.bank || '');
}

export const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString('zh-CN', { hour12: false }) : '—');
