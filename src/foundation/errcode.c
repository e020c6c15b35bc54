/* errcode — the table of every error code (see errcode.h). The only place
 * a code is spelled; docs/api.md "Error codes" mirrors it row for row. */
#include "foundation/errcode.h"

#include <stddef.h>
#include <string.h>

static const struct ze_def TABLE[ZE_COUNT] = {
    [ZE_INTERNAL] = {.code = "internal",
                     .http = 500,
                     .message = "内部错误，请稍后重试",
                     .meaning = "a server fault (a handler or the database failed); nothing was "
                                "committed. Plain anywhere, sealed after step 10"},
    [ZE_UNAVAILABLE] = {.code = "unavailable",
                        .http = 503,
                        .message = "服务暂不可用，请稍后重试",
                        .meaning =
                            "no database connection came free within `[store] "
                            "acquire_timeout_ms`, or the database is busy, or (with `[redis]`) "
                            "Redis did not answer step 11's record; retry later. "
                            "Plain, or sealed after step 10"},
    [ZE_NOT_FOUND] = {.code = "not_found",
                      .http = 404,
                      .message = "请求的资源不存在",
                      .meaning = "no endpoint has this path; on the console, no such id in the "
                                 "administrator's scope (an id outside it is answered the same)"},
    [ZE_METHOD_NOT_ALLOWED] = {.code = "method_not_allowed",
                               .http = 405,
                               .message = "不支持该请求方法",
                               .meaning = "the path exists, not with this method; `Allow` lists "
                                          "the methods it has"},
    [ZE_FORBIDDEN] = {.code = "forbidden",
                      .http = 403,
                      .message = "无权执行此操作",
                      .meaning = "`GET /metrics` from a peer outside `[server] metrics_allow`; on "
                                 "the console, the role may not do this (in scope), or the "
                                 "administrator's own account"},
    [ZE_TOO_LARGE] = {.code = "too_large",
                      .http = 413,
                      .message = "请求体超过上限",
                      .meaning = "a body above the endpoint's limit (`[server] body_limit`, "
                                 "`admin_body_limit`), or any body on a `GET` (spec step 1)"},
    [ZE_OVERLOADED] = {.code = "overloaded",
                       .http = 503,
                       .message = "系统繁忙，请稍后重试",
                       .meaning = "the body does not fit in what is left of `[server] "
                                  "buffer_limit`, or flow control sheds load (spec step 4); "
                                  "retry after `Retry-After`"},
    [ZE_BUSY] = {.code = "busy",
                 .http = 429,
                 .message = "交易繁忙，请稍后重试",
                 .meaning = "flow control refused the request: its rule's queue is full or its "
                            "wait ran out (spec step 4, console login); retry after "
                            "`Retry-After`"},
    [ZE_BAD_ENVELOPE] = {.code = "bad_envelope",
                         .http = 400,
                         .message = "报文格式错误",
                         .meaning = "not a well-formed ZY1 envelope, or its `TX` differs from the "
                                    "path (spec step 2)"},
    [ZE_UNKNOWN_TX] = {.code = "unknown_tx",
                       .http = 404,
                       .message = "未知交易",
                       .meaning = "no such transaction (spec step 3)"},
    [ZE_STALE] = {.code = "stale",
                  .http = 401,
                  .message = "终端时间与服务器相差过大",
                  .meaning = "`ts` outside the window (spec step 5); the error carries "
                             "`server_ts`: the client re-syncs its clock and seals again"},
    [ZE_UNKNOWN_KEY] = {.code = "unknown_key",
                        .http = 401,
                        .message = "服务器密钥已更换，请更新",
                        .meaning = "`kid` is not a live server key (spec step 6); the client "
                                   "fetches `GET /api/v1/pubkey`"},
    [ZE_DEVICE_UNKNOWN] = {.code = "device_unknown",
                           .http = 403,
                           .message = "设备未激活或激活码无效",
                           .meaning = "no such device (spec step 7); for DEVICE_ACTIVATE no live "
                                      "ticket for `tlr`, or no such teller"},
    [ZE_DEVICE_BLOCKED] = {.code = "device_blocked",
                           .http = 403,
                           .message = "设备已停用，请联系管理员",
                           .meaning = "the device is revoked or unbound, or its teller disabled "
                                      "(spec step 7; DEVICE_ACTIVATE: the ticket is locked); "
                                      "sealed from LOGIN when the device was revoked or rebound "
                                      "meanwhile"},
    [ZE_REPLAY] = {.code = "replay",
                   .http = 409,
                   .message = "重复的请求",
                   .meaning = "the nonce was seen (spec steps 8 and 11); a retry seals anew"},
    [ZE_BAD_MAC] = {.code = "bad_mac",
                    .http = 401,
                    .message = "报文校验失败",
                    .meaning = "SM2 or MAC failure (spec steps 9, 10); for DEVICE_ACTIVATE a "
                               "wrong activation code, counted against the ticket (5 lock it)"},
    [ZE_BAD_PAYLOAD] = {.code = "bad_payload",
                        .http = 400,
                        .message = "报文内容无法解析",
                        .meaning = "sealed: the plaintext is not a JSON object of `sid`, `cseq`, "
                                   "`data` (spec step 12)"},
    [ZE_SESSION_INVALID] = {.code = "session_invalid",
                            .http = 401,
                            .message = "会话无效，请重新登录",
                            .meaning = "sealed: no live session for this device's teller (spec "
                                       "step 13); `data.reason` says why (`no_session`, "
                                       "`signed_in_elsewhere`, `logged_out`, ...)"},
    [ZE_SESSION_EXPIRED] = {.code = "session_expired",
                            .http = 401,
                            .message = "会话已超时，请重新登录",
                            .meaning = "sealed: the session timed out (spec step 13); "
                                       "`data.reason` is `idle_timeout` or `absolute_timeout`"},
    [ZE_BAD_REQUEST] = {.code = "bad_request",
                        .http = 400,
                        .message = "请求参数不合规",
                        .meaning = "the input breaks its schema (unknown member, wrong type, too "
                                   "long, missing) or a rule; the message names the member. "
                                   "Sealed for a transaction, plain on the console"},
    [ZE_IN_PROGRESS] = {.code = "in_progress",
                        .http = 409,
                        .message = "该笔交易正在处理中，请稍后查询结果",
                        .meaning = "sealed: another request with the same (`dev`, `TX`, `cseq`) "
                                   "is still running; retry the same `cseq` later"},
    [ZE_DEVICE_CONFLICT] = {.code = "device_conflict",
                            .http = 409,
                            .message = "该设备已绑定其他柜员，请先解绑",
                            .meaning = "sealed, DEVICE_ACTIVATE: `dev` is active for another "
                                       "teller or belongs to another bank; nothing is written, "
                                       "the ticket stays live"},
    [ZE_ACTIVATION_INVALID] = {.code = "activation_invalid",
                               .http = 403,
                               .message = "激活码已失效，请重新申请",
                               .meaning = "sealed, DEVICE_ACTIVATE: the ticket expired or was "
                                          "used meanwhile"},
    [ZE_DEVICE_NOT_BOUND] = {.code = "device_not_bound",
                             .http = 403,
                             .message = "本设备未绑定该柜员",
                             .meaning = "sealed, LOGIN: this device is not bound to that teller "
                                        "(checked first, costs no attempt)"},
    [ZE_BAD_PASSWORD] = {.code = "bad_password",
                         .http = 401,
                         .message = "柜员号或密码错误",
                         .meaning = "a wrong password (counted), also for an unknown teller; "
                                    "sealed from LOGIN and PASSWORD_CHANGE, plain from the "
                                    "console login"},
    [ZE_TELLER_LOCKED] = {.code = "teller_locked",
                          .http = 403,
                          .message = "密码错误次数过多，柜员已锁定，请稍后再试或联系管理员",
                          .meaning = "too many failures on this channel (`[identity] "
                                     "max_failures`); locked for `lock_minutes`. Sealed from "
                                     "LOGIN and PASSWORD_CHANGE, plain from the console login"},
    [ZE_TELLER_DISABLED] = {.code = "teller_disabled",
                            .http = 403,
                            .message = "柜员已停用",
                            .meaning = "the teller is disabled; sealed from DEVICE_ACTIVATE and "
                                       "LOGIN, plain from the console login (right password "
                                       "only)"},
    [ZE_WEAK_PASSWORD] = {.code = "weak_password",
                          .http = 400,
                          .message = "新密码不符合要求",
                          .meaning = "the new password is not 8..128 bytes, or (PASSWORD_CHANGE) "
                                     "equals the old one; the message names the bounds"},
    [ZE_CUSTOMER_EXISTS] = {.code = "customer_exists",
                            .http = 409,
                            .message = "该证件号码的客户已存在",
                            .meaning = "sealed, CUSTOMER_CREATE and CUSTOMER_UPDATE: the bank "
                                       "already has a customer with this ID number (USCC for a "
                                       "business); `data.customer_id` is that customer. Nothing "
                                       "is written"},
    [ZE_CUSTOMER_NOT_FOUND] = {.code = "customer_not_found",
                               .http = 404,
                               .message = "客户不存在",
                               .meaning = "sealed, CUSTOMER_GET, CUSTOMER_UPDATE, "
                                          "VISIT_CHECKIN and ATTACH_BEGIN's `link.customer_id`: "
                                          "no customer with this id in the session's bank "
                                          "(another bank's customer is answered the same); "
                                          "plain (404) from the console's "
                                          "`POST /api/v1/admin/visits/tasks`"},
    [ZE_VISIT_TASK_NOT_FOUND] = {.code = "visit_task_not_found",
                                 .http = 404,
                                 .message = "走访任务不存在",
                                 .meaning = "sealed, VISIT_CHECKIN: no visit task with this id "
                                            "assigned to the session's teller in their bank "
                                            "(another teller's or another bank's task is "
                                            "answered the same). Nothing is written"},
    [ZE_VISIT_TASK_CLOSED] = {.code = "visit_task_closed",
                              .http = 409,
                              .message = "该走访任务已完成",
                              .meaning = "sealed, VISIT_CHECKIN: the task was closed by an "
                                         "earlier check-in (another `cseq`); `data.visit_id` is "
                                         "that visit. Nothing is written"},
    [ZE_VISIT_NOT_FOUND] = {.code = "visit_not_found",
                            .http = 404,
                            .message = "走访记录不存在",
                            .meaning = "sealed, ATTACH_BEGIN's `link.visit_id`: no visit with "
                                       "this id in the session's bank (another bank's visit is "
                                       "answered the same); the message names the member. "
                                       "Nothing is written"},
    [ZE_ATTACH_NOT_FOUND] = {.code = "attach_not_found",
                             .http = 404,
                             .message = "附件不存在",
                             .meaning = "sealed, ATTACH_CHUNK, ATTACH_STATUS, ATTACH_END and "
                                        "ATTACH_GET: no such upload (or, for ATTACH_GET, stored "
                                        "attachment) in the session's bank; also an upload "
                                        "abandoned (refused, or purged after a day): begin "
                                        "again. Another bank's is answered the same"},
    [ZE_ATTACH_TOO_LARGE] = {.code = "attach_too_large",
                             .http = 413,
                             .message = "附件超过大小上限",
                             .meaning = "sealed, ATTACH_BEGIN and ATTACH_END: the size is above "
                                        "`[business] attach_max_bytes`; `data.max_bytes` is the "
                                        "limit. Nothing is written at BEGIN; at END the upload "
                                        "is abandoned"},
    [ZE_ATTACH_BAD_TYPE] = {.code = "attach_bad_type",
                            .http = 415,
                            .message = "附件内容类型不符",
                            .meaning = "sealed, ATTACH_CHUNK (chunk 0), ATTACH_END and "
                                       "ATTACH_BEGIN: the content's magic bytes are not of the "
                                       "kind's types (photo: JPEG, PNG; document: PDF), or the "
                                       "bank has this content stored as the other kind. Nothing is "
                                       "written, except at END: the upload is abandoned"},
    [ZE_ATTACH_MISMATCH] = {.code = "attach_mismatch",
                            .http = 422,
                            .message = "附件内容校验失败",
                            .meaning = "sealed, ATTACH_CHUNK: the chunk's bytes do not have the "
                                       "`sm3` sent with it (nothing written; send it again); "
                                       "ATTACH_END: the whole content's SM3 is not the one "
                                       "declared at ATTACH_BEGIN (the upload is abandoned: "
                                       "begin again)"},
    [ZE_ATTACH_INCOMPLETE] = {.code = "attach_incomplete",
                              .http = 409,
                              .message = "附件尚未上传完整",
                              .meaning = "sealed, ATTACH_END before every chunk is there; "
                                         "`data.missing` lists the chunks to send. Nothing is "
                                         "written"},
    /* Electronic vouchers (business/voucher.h). */
    [ZE_VOUCHER_NOT_FOUND] = {.code = "voucher_not_found",
                              .http = 404,
                              .message = "凭证不存在",
                              .meaning = "sealed, VOUCHER_GET and VOUCHER_VERIFY by id: no such "
                                         "voucher in the session's bank (another bank's voucher "
                                         "is answered the same)"},
    [ZE_BIZ_NOT_FOUND] = {.code = "biz_not_found",
                          .http = 404,
                          .message = "业务不存在",
                          .meaning = "sealed, BIZ_STEP, BIZ_GET and BIZ_CANCEL: no business with "
                                     "this id in the session's bank (another bank's is answered "
                                     "the same). Nothing is written"},
    [ZE_BIZ_KIND_UNAVAILABLE] = {.code = "biz_kind_unavailable",
                                 .http = 400,
                                 .message = "该业务暂未开通",
                                 .meaning = "sealed, BIZ_START: the kind is known but its steps "
                                            "are not defined yet (ebank, loan, credit_card, "
                                            "social_card, agency for now). Nothing is written"},
    [ZE_BIZ_STEP_OUT_OF_ORDER] = {.code = "biz_step_out_of_order",
                                  .http = 409,
                                  .message = "业务步骤顺序不符",
                                  .meaning = "sealed, BIZ_STEP: the step is not the business's "
                                             "next one (nor one done already); `data.next_step` "
                                             "names the step to run. Nothing is written"},
    [ZE_BIZ_CLOSED] = {.code = "biz_closed",
                       .http = 409,
                       .message = "该业务已结束",
                       .meaning = "sealed, BIZ_STEP and BIZ_CANCEL: the business is completed or "
                                  "cancelled (BIZ_STEP also: being cancelled); `data.status` is "
                                  "its status. Nothing is written"},
    [ZE_BIZ_CHECK_FAILED] = {.code = "biz_check_failed",
                             .http = 422,
                             .message = "核验未通过",
                             .meaning = "sealed, BIZ_STEP: the bank's system answered but the "
                                        "check failed (ID check: name and number do not match; "
                                        "face: score below `[business] face_threshold` or no "
                                        "liveness). The failure is recorded (`data.attempt`); "
                                        "the step may be run again with new input"},
    [ZE_DOWNSTREAM_REFUSED] = {.code = "downstream_refused",
                               .http = 422,
                               .message = "业务系统拒绝了该请求",
                               .meaning = "sealed, BIZ_STEP: the bank's system refused the step "
                                          "(a business refusal: `data.system_code`, the message "
                                          "is the system's). The failure is recorded; the step "
                                          "may be run again with new input (a new downstream "
                                          "serial)"},
    [ZE_DOWNSTREAM_UNAVAILABLE] = {.code = "downstream_unavailable",
                                   .http = 503,
                                   .message = "业务系统暂时无法访问，请稍后重试该步骤",
                                   .meaning = "sealed, BIZ_STEP and BIZ_CANCEL: the bank's system "
                                              "did not answer (timeout, broken connection, "
                                              "breaker open) or failed; the outcome is unknown, "
                                              "so nothing is recorded: run the same step again "
                                              "(it reuses the same downstream serial, which the "
                                              "system answers once)"},
    [ZE_DEVICE_NONCOMPLIANT] = {.code = "device_noncompliant",
                                .http = 403,
                                .message = "设备不符合安全策略，请按提示整改后重新检查",
                                .meaning = "sealed, every business TX: the device's last "
                                           "DEVICE_CHECKIN was not compliant, or the bank's policy "
                                           "requires check-ins and none came within its interval; "
                                           "`data.violations` lists why. Nothing is done (a TX "
                                           "with a prepare phase never calls the bank's other "
                                           "systems), and the refusal is not the `cseq`'s stored "
                                           "answer: fix the device and send DEVICE_CHECKIN, then "
                                           "the same request again (LOGIN, LOGOUT, DEVICE_CHECKIN "
                                           "and DEVICE_COMMAND_ACK stay open)"},
    [ZE_VIDEO_CALL_NOT_FOUND] = {.code = "video_call_not_found",
                                 .http = 404,
                                 .message = "视频通话不存在",
                                 .meaning = "sealed (VIDEO_CALL_STATUS, VIDEO_SIGNAL, "
                                            "VIDEO_CALL_END) or on the console: no such call of "
                                            "this client manager, or of this agent's bank"},
    [ZE_VIDEO_CALL_ENDED] = {.code = "video_call_ended",
                             .http = 409,
                             .message = "通话已结束",
                             .meaning = "a signal or an end for a call that has ended (by the "
                                        "other side, or `dropped` after the reconnect window); "
                                        "read its outcome with VIDEO_CALL_STATUS or the call list"},
    [ZE_VIDEO_QUEUE_EMPTY] = {.code = "video_queue_empty",
                              .http = 409,
                              .message = "当前没有排队的呼叫",
                              .meaning = "console, take the next call: nobody of the bank waits"},
    [ZE_VIDEO_AGENT_BUSY] = {.code = "video_agent_busy",
                             .http = 409,
                             .message = "您还有未结束的通话，请先挂断",
                             .meaning = "console, take the next call: the agent has a ringing or "
                                        "connected call; end it first"},
    [ZE_STORE_TOKEN_INVALID] = {.code = "store_token_invalid",
                                .http = 403,
                                .message = "下载凭证无效或已过期，请重新检查更新",
                                .meaning = "plain, `GET /api/v1/store/packages/ID`: the `token` is "
                                           "missing, malformed, for another package or device, "
                                           "or expired (`[appstore] token_ttl_s`); ask APP_LATEST "
                                           "for a fresh one"},
    [ZE_RANGE_NOT_SATISFIABLE] = {.code = "range_not_satisfiable",
                                  .http = 416,
                                  .message = "请求的范围无效",
                                  .meaning = "plain, a package download or a recording's playback "
                                             "(console): the `Range` starts at or past the end of "
                                             "the file (`Content-Range: bytes */SIZE` says its "
                                             "size), or is not one byte range"},
    [ZE_BAD_ORIGIN] = {.code = "bad_origin",
                       .http = 403,
                       .message = "请求来源不被允许",
                       .meaning = "console: an `Origin` header that does not name the request's "
                                  "`Host` (also `Origin: null`)"},
    [ZE_UNAUTHENTICATED] = {.code = "unauthenticated",
                            .http = 401,
                            .message = "请先登录管理台",
                            .meaning = "console: no live session cookie; `error.reason` says why "
                                       "a session ended (`idle_timeout`, `logged_out`, ...)"},
    [ZE_CSRF] = {.code = "csrf",
                 .http = 403,
                 .message = "安全校验失败，请刷新页面后重试",
                 .meaning = "console: a write without the session's `X-CSRF-Token`"},
    [ZE_UNSUPPORTED_MEDIA_TYPE] = {.code = "unsupported_media_type",
                                   .http = 415,
                                   .message = "请求须为 application/json",
                                   .meaning = "console: a write whose `Content-Type` is not "
                                              "`application/json`"},
    [ZE_EXISTS] = {.code = "exists",
                   .http = 409,
                   .message = "编码已被使用",
                   .meaning = "console: the bank, branch or teller code is taken (teller codes "
                              "in the whole deployment)"},
    [ZE_CONFLICT] = {.code = "conflict",
                     .http = 409,
                     .message = "与现有数据冲突",
                     .meaning = "console: the write does not fit existing data, e.g. a branch "
                                "for the province, a role that does not fit the bank; sealed, "
                                "CUSTOMER_UPDATE: the record is no longer at the `version` the "
                                "edit started from (another manager changed it); "
                                "`data.version` is the current one. Nothing is written: read "
                                "the record again and redo the edit"},
    [ZE_NOT_ACTIVE] = {.code = "not_active",
                       .http = 409,
                       .message = "对象已停用或不在可用状态",
                       .meaning = "console: the device is not active (revoked twice), a ticket "
                                  "for a disabled teller"},
    [ZE_RELOAD_FAILED] = {.code = "reload_failed",
                          .http = 422,
                          .message = "流控规则重新加载失败，原规则继续生效",
                          .meaning = "console: the flow rules were not reloaded, the old ones "
                                     "stay; `error.detail` says why"},
    [ZE_VREC_NO_CONSENT] = {.code = "vrec_no_consent",
                            .http = 422,
                            .message = "客户尚未同意录音录像，不能开始双录",
                            .meaning = "a recorded call (双录) started without the customer's "
                                       "consent (who captured it, when, the text's version): "
                                       "nothing recorded, nothing written"},
    [ZE_MEDIA_UNAVAILABLE] = {.code = "media_unavailable",
                              .http = 503,
                              .message = "录像服务暂不可用，请稍后重试",
                              .meaning = "the media server (Janus) did not answer, refused, or "
                                         "the recording could not be processed; the call's "
                                         "recording row says which step (`error`)"},
};

const struct ze_def *ze_get(enum ze e)
{
    return (unsigned)e < ZE_COUNT && TABLE[e].code ? &TABLE[e] : &TABLE[ZE_INTERNAL];
}

const char *ze_code(enum ze e)
{
    return ze_get(e)->code;
}

int ze_http(enum ze e)
{
    return ze_get(e)->http;
}

const char *ze_message(enum ze e, const char *detail)
{
    return detail && detail[0] ? detail : ze_get(e)->message;
}

bool ze_parse(const char *code, enum ze *out)
{
    *out = ZE_INTERNAL;
    for (int i = 0; code && i < ZE_COUNT; i++) {
        if (TABLE[i].code && strcmp(TABLE[i].code, code) == 0) {
            *out = (enum ze)i;
            return true;
        }
    }
    return false;
}
