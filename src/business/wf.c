/* wf.c — the kinds, their table checks and the engine's small helpers (wf.h). */
#include "business/wf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct wf_kind *const KINDS[] = {
    &WF_DEBIT_CARD, &WF_EBANK, &WF_LOAN, &WF_CREDIT_CARD, &WF_SOCIAL_CARD, &WF_AGENCY,
};

const struct wf_kind *const *wf_kinds(size_t *n)
{
    *n = sizeof KINDS / sizeof KINDS[0];
    return KINDS;
}

const struct wf_kind *wf_kind_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(KINDS[i]->name, name) == 0)
            return KINDS[i];
    return NULL;
}

int wf_step_index(const struct wf_kind *k, const char *name)
{
    for (size_t i = 0; name && k->steps && i < k->nsteps; i++)
        if (strcmp(k->steps[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= WF_NAME_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

int wf_kind_check(const struct wf_kind *k, char *err, size_t errcap)
{
    if (!k || !name_ok(k->name) || !k->steps || k->nsteps == 0 || k->nsteps > WF_MAX_STEPS) {
        snprintf(err, errcap, "kind %s: a name and 1..%d steps", k && k->name ? k->name : "?",
                 WF_MAX_STEPS);
        return -1;
    }
    for (size_t i = 0; i < k->nsteps; i++) {
        const struct wf_step *s = &k->steps[i];
        const char *why = NULL;
        if (!name_ok(s->name))
            why = "name not [a-z_]{1,16}";
        else if (!s->apply)
            why = "no apply";
        else if (s->egress && !s->request && !s->call)
            why = "an egress step without request or call";
        else if (!s->egress && (s->request || s->call || s->serial || s->undo))
            why = "a local step with a downstream part";
        else if (s->egress && s->prepare)
            why = "a prepare on an egress step";
        else if (s->nfields > 0 && !s->fields)
            why = "nfields without fields";
        for (size_t j = 0; !why && j < i; j++)
            if (strcmp(k->steps[j].name, s->name) == 0)
                why = "name used twice";
        if (!why && i + 1 == k->nsteps &&
            (strcmp(s->name, WF_VOUCHER_STEP) != 0 || s->egress || !s->prepare))
            why = "the last step is not the local step \"voucher\" with a prepare";
        if (why) {
            snprintf(err, errcap, "kind %s step %zu (%s): %s", k->name, i, s->name ? s->name : "?",
                     why);
            return -1;
        }
    }
    return 0;
}

void wf_biz_no(int64_t bank_id, int64_t biz_id, char out[WF_BIZ_NO_LEN + 1])
{
    uint64_t b = (uint64_t)(bank_id < 0 ? 0 : bank_id) % 100000u,
             i = (uint64_t)(biz_id < 0 ? 0 : biz_id) % 1000000000u;
    char buf[32];
    snprintf(buf, sizeof buf, "%05" PRIu64 "%09" PRIu64, b, i);
    memcpy(out, buf, WF_BIZ_NO_LEN);
    out[WF_BIZ_NO_LEN] = '\0';
}

void wf_serial(const char *biz_no, int step, char dir, int attempt, char out[WF_SERIAL_LEN + 1])
{
    char buf[48];
    unsigned st = (unsigned)(step < 0 ? 0 : step) % 100u,
             at = (unsigned)(attempt < 0 ? 0 : attempt) % 1000u;
    snprintf(buf, sizeof buf, "%.14s%02u%c%03u", biz_no, st, dir, at);
    memcpy(out, buf, WF_SERIAL_LEN);
    out[WF_SERIAL_LEN] = '\0';
}

bool wf_luhn_ok(const char *pan)
{
    size_t n = pan ? strlen(pan) : 0;
    if (n < 13 || n > 19 || strspn(pan, "0123456789") != n)
        return false;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = pan[n - 1 - i] - '0';
        if (i % 2 == 1)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0;
}

bool wf_date_ok(const char *s)
{
    if (!s || strlen(s) != 8 || strspn(s, "0123456789") != 8)
        return false;
    int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}
