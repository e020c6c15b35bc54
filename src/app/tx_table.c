/* The transaction registry: every ZY1 transaction of the platform, once. */
#include "appstore/tx_store.h"
#include "business/attach.h"
#include "business/customer.h"
#include "business/customer_prefill.h"
#include "business/mdm_ack.h"
#include "business/mdm_checkin.h"
#include "business/perf_summary.h"
#include "business/recommend.h"
#include "business/tag.h"
#include "business/video_record_tx.h"
#include "business/video_tx.h"
#include "business/visit.h"
#include "business/voucher.h"
#include "business/wf.h"
#include "channel/tx.h"
#include "identity/tx_identity.h"

#include <string.h>

static const struct tx_def *const ALL[] = {
    &TX_DEVICE_ACTIVATE,
    &TX_LOGIN,
    &TX_LOGOUT,
    &TX_PASSWORD_CHANGE,
    &TX_SESSION_INFO,
    &TX_CUSTOMER_CREATE,
    &TX_CUSTOMER_UPDATE,
    &TX_CUSTOMER_GET,
    &TX_CUSTOMER_SEARCH,
    &TX_TAG_CATALOG,
    &TX_TAG_SET,
    &TX_TAG_CLEAR,
    &TX_TAG_LIST,
    &TX_RECOMMEND_LIST,
    &TX_RECOMMEND_FEEDBACK,
    &TX_VISIT_TASKS,
    &TX_VISIT_CHECKIN,
    &TX_VISIT_HISTORY,
    &TX_ATTACH_BEGIN,
    &TX_ATTACH_CHUNK,
    &TX_ATTACH_STATUS,
    &TX_ATTACH_END,
    &TX_ATTACH_GET,
    &TX_ATTACH_LIST,
    &TX_CUSTOMER_PREFILL,
    &TX_PERF_SUMMARY,
    &TX_VOUCHER_GET,
    &TX_VOUCHER_VERIFY,
    &TX_VOUCHER_LIST,
    &TX_PERF_SUMMARY,
    &TX_BIZ_START,
    &TX_BIZ_STEP,
    &TX_BIZ_GET,
    &TX_BIZ_LIST,
    &TX_BIZ_CANCEL,
    &TX_DEVICE_CHECKIN,
    &TX_VIDEO_CALL_REQUEST,
    &TX_VIDEO_CALL_STATUS,
    &TX_VIDEO_SIGNAL,
    &TX_VIDEO_CALL_END,
    &TX_APP_LATEST,
    &TX_DEVICE_COMMAND_ACK,
    &TX_VIDEO_RECORD_JOIN,
};

const struct tx_def *const *tx_all(size_t *n)
{
    *n = sizeof ALL / sizeof ALL[0];
    return ALL;
}

const struct tx_def *tx_find(const char *code)
{
    for (size_t i = 0; code && i < sizeof ALL / sizeof ALL[0]; i++)
        if (strcmp(ALL[i]->code, code) == 0)
            return ALL[i];
    return NULL;
}
