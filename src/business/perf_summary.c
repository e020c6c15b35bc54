/* perf_summary.c — the figures of a period and PERF_SUMMARY (see perf_summary.h). */
#include "business/perf_summary.h"

#include "foundation/clock.h"

#include <math.h>
#include <string.h>

static const char *const OUTCOMES[PERF_OUTCOMES] = {"met", "not_home", "refused", "interested",
                                                    "done"};
static const char *const VIDEO_OUTCOMES[PERF_VIDEO_OUTCOMES] = {"completed", "abandoned", "dropped",
                                                                "rejected"};

int perf_figures_init(struct perf_figures *f)
{
    memset(f, 0, sizeof *f);
    f->business = json_object();
    return f->business ? PERF_OK : STORE_NOMEM;
}

void perf_figures_free(struct perf_figures *f)
{
    json_decref(f->business);
    f->business = NULL;
}

/* count and amount into business[type]. */
static int add_business(struct perf_figures *f, const char *type, int64_t count, int64_t amount)
{
    json_t *t = json_object_get(f->business, type);
    if (!t) {
        t = json_pack("{s:I, s:I}", "count", (json_int_t)0, "amount", (json_int_t)0);
        if (!t || json_object_set_new(f->business, type, t) != 0)
            return STORE_NOMEM;
    }
    json_object_set_new(t, "count",
                        json_integer(json_integer_value(json_object_get(t, "count")) + count));
    json_object_set_new(t, "amount",
                        json_integer(json_integer_value(json_object_get(t, "amount")) + amount));
    f->business_count += count;
    f->business_amount += amount;
    return PERF_OK;
}

int perf_figures_add(struct perf_figures *f, const struct perf_row *r)
{
    const char *m = r->metric;
    struct {
        const char *name;
        int64_t *to;
    } const plain[] = {
        {"visits", &f->visits},
        {"leads_opened", &f->leads_opened},
        {"customers_created", &f->customers_created},
        {"profiles_written", &f->profiles_written},
        {"recommendations_made", &f->rec_made},
        {"recommendations_accepted", &f->rec_accepted},
        {"recommendations_declined", &f->rec_declined},
        {"recommendations_later", &f->rec_later},
        {"video_calls", &f->video_calls},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(m, plain[i].name) == 0) {
            *plain[i].to += r->qty;
            return PERF_OK;
        }
    if (strcmp(m, "info_members") == 0) {
        f->info_filled += r->qty;
        f->info_possible += r->amount;
        return PERF_OK;
    }
    if (strncmp(m, "visits_", 7) == 0) {
        for (size_t i = 0; i < PERF_OUTCOMES; i++)
            if (strcmp(m + 7, OUTCOMES[i]) == 0)
                f->by_outcome[i] += r->qty;
        return PERF_OK;
    }
    if (strncmp(m, "video_calls_", 12) == 0) {
        for (size_t i = 0; i < PERF_VIDEO_OUTCOMES; i++)
            if (strcmp(m + 12, VIDEO_OUTCOMES[i]) == 0)
                f->video_by_outcome[i] += r->qty;
        return PERF_OK;
    }
    if (strncmp(m, "business:", 9) == 0 && m[9])
        return add_business(f, m + 9, r->qty, r->amount);
    return PERF_OK;
}

int perf_figures_merge(struct perf_figures *a, const struct perf_figures *b)
{
    a->visits += b->visits;
    for (size_t i = 0; i < PERF_OUTCOMES; i++)
        a->by_outcome[i] += b->by_outcome[i];
    a->leads_opened += b->leads_opened;
    a->customers_created += b->customers_created;
    a->profiles_written += b->profiles_written;
    a->info_filled += b->info_filled;
    a->info_possible += b->info_possible;
    a->rec_made += b->rec_made;
    a->rec_accepted += b->rec_accepted;
    a->rec_declined += b->rec_declined;
    a->rec_later += b->rec_later;
    a->video_calls += b->video_calls;
    for (size_t i = 0; i < PERF_VIDEO_OUTCOMES; i++)
        a->video_by_outcome[i] += b->video_by_outcome[i];
    const char *type;
    json_t *t;
    json_object_foreach(b->business, type, t)
    {
        int rc = add_business(a, type, json_integer_value(json_object_get(t, "count")),
                              json_integer_value(json_object_get(t, "amount")));
        if (rc != PERF_OK)
            return rc;
    }
    return PERF_OK;
}

/* n / d to 4 decimals; 0 when d is 0. */
static double ratio(int64_t n, int64_t d)
{
    return d > 0 ? round((double)n / (double)d * 10000.0) / 10000.0 : 0.0;
}

json_t *perf_figures_json(const struct perf_figures *f)
{
    json_t *outcomes = json_object(), *video = json_object();
    for (size_t i = 0; outcomes && i < PERF_OUTCOMES; i++)
        json_object_set_new(outcomes, OUTCOMES[i], json_integer(f->by_outcome[i]));
    for (size_t i = 0; video && i < PERF_VIDEO_OUTCOMES; i++)
        json_object_set_new(video, VIDEO_OUTCOMES[i], json_integer(f->video_by_outcome[i]));
    json_t *business =
        f->business ? json_pack("{s:I, s:I, s:O}", "count", (json_int_t)f->business_count, "amount",
                                (json_int_t)f->business_amount, "by_type", f->business)
                    : NULL;
    if (!outcomes || !business || !video) {
        json_decref(outcomes);
        json_decref(business);
        json_decref(video);
        return NULL;
    }
    return json_pack(
        "{s:I, s:o, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:f, s:o, s:I, s:o}", "visits",
        (json_int_t)f->visits, "visits_by_outcome", outcomes, "leads_opened",
        (json_int_t)f->leads_opened, "customers_created", (json_int_t)f->customers_created,
        "profiles_written", (json_int_t)f->profiles_written, "info_completeness",
        ratio(f->info_filled, f->info_possible), "recommendations_made", (json_int_t)f->rec_made,
        "recommendations_accepted", (json_int_t)f->rec_accepted, "recommendations_declined",
        (json_int_t)f->rec_declined, "recommendations_later", (json_int_t)f->rec_later,
        "conversion", ratio(f->rec_accepted, f->rec_made), "business", business, "video_calls",
        (json_int_t)f->video_calls, "video_calls_by_outcome", video);
}

json_t *perf_period_json(char kind, int32_t start)
{
    char s[11], e[11];
    perf_date_text(start, s);
    perf_date_text(perf_period_end(kind, start), e);
    return json_pack("{s:s, s:s, s:s}", "kind",
                     kind == 'w'   ? "week"
                     : kind == 'm' ? "month"
                                   : "day",
                     "start", s, "end", e);
}

static int add_row(const struct perf_row *r, void *arg)
{
    return perf_figures_add(arg, r);
}

int perf_summary(struct tenant_conn *tc, enum perf_level level, char kind, int32_t start,
                 struct perf_figures *f)
{
    return perf_read(tc, level, kind, start, add_row, f);
}

/* ---- PERF_SUMMARY -------------------------------------------------------------- */

/* The figures of one period as {"period": {...}, figures...}; NULL on failure (*rc). */
static json_t *period_answer(struct tenant_conn *tc, enum perf_level level, char kind,
                             int32_t start, int *rc)
{
    struct perf_figures f;
    json_t *out = NULL;
    *rc = perf_figures_init(&f);
    if (*rc == PERF_OK)
        *rc = perf_summary(tc, level, kind, start, &f);
    if (*rc == PERF_OK && (out = perf_figures_json(&f)) != NULL)
        json_object_set_new(out, "period", perf_period_json(kind, start));
    else if (*rc == PERF_OK)
        *rc = STORE_NOMEM;
    perf_figures_free(&f);
    return out;
}

static enum tx_result tx_summary(struct tx_ctx *c)
{
    const char *period = json_string_value(json_object_get(c->in, "period"));
    const char *date = json_string_value(json_object_get(c->in, "date"));
    const char *scope = json_string_value(json_object_get(c->in, "scope"));
    char kind = perf_kind_parse(period);
    int32_t day = perf_day_of(clock_wall_ms());
    if (!kind) {
        tx_failf(c, ZE_BAD_REQUEST, "data.period: 须为 day、week 或 month");
        return TX_COMMIT;
    }
    if (date && perf_date_parse(date, &day) != 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.date: 须为有效日期 YYYY-MM-DD");
        return TX_COMMIT;
    }
    bool branch = scope && strcmp(scope, "branch") == 0;
    if (scope && !branch && strcmp(scope, "mine") != 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.scope: 须为 mine 或 branch");
        return TX_COMMIT;
    }
    const struct scope *sc = tenant_scope(c->tenant);
    if (branch && (sc->role != ROLE_BRANCH_MANAGER || !sc->branch_id)) {
        tx_failf(c, ZE_FORBIDDEN, "只有网点负责人可以查看本网点业绩");
        return TX_COMMIT;
    }
    enum perf_level level = branch ? PERF_BRANCH : PERF_MINE;
    int32_t start = perf_period_start(kind, day);
    int rc;
    json_t *cur = period_answer(c->tenant, level, kind, start, &rc);
    json_t *prev =
        cur ? period_answer(c->tenant, level, kind, perf_period_prev(kind, start), &rc) : NULL;
    if (!cur || !prev) {
        json_decref(cur);
        json_decref(prev);
        return TX_ROLLBACK;
    }
    json_object_set_new(c->out, "scope", json_string(branch ? "branch" : "mine"));
    json_object_set_new(c->out, "period", json_string(period));
    json_object_set_new(c->out, "current", cur);
    json_object_set_new(c->out, "previous", prev);
    return TX_COMMIT;
}

static const struct tx_field F_SUMMARY[] = {
    {.name = "period", .type = TXF_STRING, .required = true, .max = 8},
    {.name = "date", .type = TXF_STRING, .max = 10},
    {.name = "scope", .type = TXF_STRING, .max = 8},
};

const struct tx_def TX_PERF_SUMMARY = {.code = "PERF_SUMMARY",
                                       .fn = tx_summary,
                                       .needs_session = true,
                                       .read_only = true,
                                       .bank_data = true,
                                       .fields = F_SUMMARY,
                                       .nfields = sizeof F_SUMMARY / sizeof F_SUMMARY[0]};
