/* perf.c — the performance counters (see perf.h). Everything goes through
 * the tenant scope; placeholders are numbered around the bank's as
 * data/tenant.h says. */
#include "business/perf.h"

#include <stdio.h>
#include <string.h>

#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */
#define DAY_MS 86400000LL

/* ---- periods ------------------------------------------------------------------ */

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int32_t civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    return (int32_t)(y * 10000 + m * 100 + d);
}

static int64_t days_of(int32_t day)
{
    return days_from_civil(day / 10000, day / 100 % 100, day % 100);
}

int32_t perf_day_of(int64_t now_ms)
{
    int64_t local = now_ms + (int64_t)BANK_UTC_OFFSET_S * 1000;
    int64_t days = local >= 0 ? local / DAY_MS : -((-local + DAY_MS - 1) / DAY_MS);
    return civil_from_days(days);
}

int perf_date_parse(const char *s, int32_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1)
        return -1;
    int32_t v = (int32_t)(y * 10000 + m * 100 + d);
    if (civil_from_days(days_of(v)) != v) /* 2026-02-30 comes back as 2026-03-02 */
        return -1;
    *day = v;
    return 0;
}

void perf_date_text(int32_t day, char out[11])
{
    unsigned v = day > 0 ? (unsigned)day : 0;
    snprintf(out, 11, "%04u-%02u-%02u", v / 10000 % 10000, v / 100 % 100, v % 100);
}

int32_t perf_period_start(char kind, int32_t day)
{
    if (kind == 'w') {
        int64_t z = days_of(day);
        int64_t wd = ((z + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday; 0 = Monday */
        return civil_from_days(z - wd);
    }
    if (kind == 'm')
        return day / 100 * 100 + 1;
    return day;
}

int32_t perf_period_prev(char kind, int32_t start)
{
    if (kind == 'w')
        return civil_from_days(days_of(start) - 7);
    if (kind == 'm') {
        int32_t y = start / 10000, m = start / 100 % 100;
        return m == 1 ? (y - 1) * 10000 + 1201 : y * 10000 + (m - 1) * 100 + 1;
    }
    return civil_from_days(days_of(start) - 1);
}

int32_t perf_period_end(char kind, int32_t start)
{
    if (kind == 'w')
        return civil_from_days(days_of(start) + 6);
    if (kind == 'm') {
        int32_t y = start / 10000, m = start / 100 % 100;
        int32_t next = m == 12 ? (y + 1) * 10000 + 101 : y * 10000 + (m + 1) * 100 + 1;
        return civil_from_days(days_of(next) - 1);
    }
    return start;
}

char perf_kind_parse(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "day") == 0)
        return 'd';
    if (strcmp(s, "week") == 0)
        return 'w';
    if (strcmp(s, "month") == 0)
        return 'm';
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

static int done(int rc)
{
    return rc == STORE_DONE ? PERF_OK : rc;
}

/* One row: UPDATE, then INSERT when there was none. */
static int add_row(struct tenant_conn *tc, int64_t branch, int64_t teller, char kind, int32_t start,
                   const char *metric, int64_t qty, int64_t amount)
{
    const char kind_s[2] = {kind, '\0'};
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE perf_counters SET qty = qty + ?, amount = amount + ? "
                            "WHERE bank_id = ? AND branch_id = ? AND teller_id = ? AND "
                            "period_kind = ? AND period_start = ? AND metric = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 1, qty);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, amount);
    /* 3 is the bank's */
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 4, branch);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, teller);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 6, kind_s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, start);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 8, metric);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    if (rc != PERF_OK || tenant_changes(tc) > 0)
        return rc;
    s = NULL;
    rc = tenant_prepare(tc,
                        "INSERT INTO perf_counters (bank_id, branch_id, teller_id, period_kind, "
                        "period_start, metric, qty, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, branch);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, teller);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, kind_s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, start);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 6, metric);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, qty);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, amount);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return rc;
}

int perf_add(struct tenant_conn *tc, int64_t branch, int64_t teller, const char *metric,
             int64_t qty, int64_t amount, int64_t now_ms)
{
    if (!tc || teller < 0 || !metric || !metric[0] || strlen(metric) > PERF_METRIC_MAX)
        return STORE_ERR;
    int32_t day = perf_day_of(now_ms);
    static const char kinds[] = {'d', 'w', 'm'};
    int rc = PERF_OK;
    for (size_t i = 0; i < sizeof kinds && rc == PERF_OK; i++) {
        int32_t start = perf_period_start(kinds[i], day);
        if (teller > 0)
            rc = add_row(tc, branch, teller, kinds[i], start, metric, qty, amount);
        if (rc == PERF_OK) /* the branch's sum */
            rc = add_row(tc, branch, 0, kinds[i], start, metric, qty, amount);
    }
    return rc;
}

/* perf_add for the scope's teller in the scope's branch. */
static int add_mine(struct tenant_conn *tc, const char *metric, int64_t qty, int64_t amount,
                    int64_t now_ms)
{
    const struct scope *sc = tenant_scope(tc);
    return perf_add(tc, sc->branch_id, sc->teller_id, metric, qty, amount, now_ms);
}

/* A member that is there and not empty. */
static bool filled(const json_t *v)
{
    if (!v || json_is_null(v))
        return false;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return true;
}

int perf_customer(struct tenant_conn *tc, const json_t *rec, bool created, int64_t now_ms)
{
    /* The optional members of each kind (customer_profile.h). */
    static const char *const person[PERF_INFO_MEMBERS] = {
        "phone", "address", "household", "occupation", "income_band", "assets", "products"};
    static const char *const business[PERF_INFO_MEMBERS] = {
        "phone", "address", "assets", "products", "legal_person", "industry", "turnover"};
    const char *kind = json_string_value(json_object_get(rec, "kind"));
    const char *const *m = kind && strcmp(kind, "business") == 0 ? business : person;
    int64_t n = 0;
    for (size_t i = 0; i < PERF_INFO_MEMBERS; i++)
        n += filled(json_object_get(rec, m[i]));
    int rc = created ? add_mine(tc, "customers_created", 1, 0, now_ms) : PERF_OK;
    if (rc == PERF_OK)
        rc = add_mine(tc, "profiles_written", 1, 0, now_ms);
    if (rc == PERF_OK)
        rc = add_mine(tc, "info_members", n, PERF_INFO_MEMBERS, now_ms);
    return rc;
}

int perf_visit(struct tenant_conn *tc, const char *outcome, bool lead, int64_t now_ms)
{
    char metric[PERF_METRIC_MAX + 1];
    if (!outcome || snprintf(metric, sizeof metric, "visits_%s", outcome) >= (int)sizeof metric)
        return STORE_ERR;
    int rc = add_mine(tc, "visits", 1, 0, now_ms);
    if (rc == PERF_OK)
        rc = add_mine(tc, metric, 1, 0, now_ms);
    if (rc == PERF_OK && lead)
        rc = add_mine(tc, "leads_opened", 1, 0, now_ms);
    return rc;
}

int perf_feedback(struct tenant_conn *tc, const char *verdict, int64_t now_ms)
{
    char metric[PERF_METRIC_MAX + 1];
    if (!verdict ||
        snprintf(metric, sizeof metric, "recommendations_%s", verdict) >= (int)sizeof metric)
        return STORE_ERR;
    return add_mine(tc, metric, 1, 0, now_ms);
}

int perf_business(struct tenant_conn *tc, const char *type, int64_t amount_fen, int64_t now_ms)
{
    size_t n = type ? strlen(type) : 0;
    if (n < 1 || n > PERF_BUSINESS_TYPE_MAX ||
        strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return STORE_ERR;
    char metric[PERF_METRIC_MAX + 1];
    snprintf(metric, sizeof metric, "business:%s", type);
    return add_mine(tc, metric, 1, amount_fen, now_ms);
}

/* ---- reading ------------------------------------------------------------------ */

/* Each reads one row per metric (and branch, bank) of the period: the
 * branch's sums are rows of their own (teller_id 0), the indexes of
 * migration 15 follow the WHERE and the order. */
#define COLS "SELECT bank_id, branch_id, metric, qty, amount, teller_id FROM perf_counters "

static const char *const SQL_MINE =
    COLS "WHERE bank_id = ? AND branch_id = ? AND teller_id = ? AND period_kind = ? AND "
         "period_start = ? ORDER BY metric";
static const char *const SQL_BRANCH =
    COLS "WHERE bank_id = ? AND branch_id = ? AND teller_id = 0 AND period_kind = ? AND "
         "period_start = ? ORDER BY metric";
static const char *const SQL_TELLERS =
    COLS "WHERE bank_id = ? AND branch_id = ? AND teller_id > 0 AND period_kind = ? AND "
         "period_start = ? ORDER BY teller_id, metric";
static const char *const SQL_BANK =
    COLS "WHERE bank_id = ? AND teller_id = 0 AND period_kind = ? AND period_start = ? "
         "ORDER BY branch_id, metric";
static const char *const SQL_PROVINCE =
    "SELECT bank_id, 0, metric, SUM(qty), SUM(amount), 0 FROM perf_counters WHERE teller_id = 0 "
    "AND "
    "period_kind = ? AND period_start = ? GROUP BY bank_id, metric ORDER BY bank_id, metric";

int perf_read(struct tenant_conn *tc, enum perf_level level, char kind, int32_t start,
              int (*fn)(const struct perf_row *r, void *arg), void *arg)
{
    if (!tc || (kind != 'd' && kind != 'w' && kind != 'm'))
        return STORE_ERR;
    const struct scope *sc = tenant_scope(tc);
    const char kind_s[2] = {kind, '\0'};
    struct tenant_stmt *s = NULL;
    int rc, at; /* the position of the period's kind */
    switch (level) {
    case PERF_MINE:
        rc = tenant_prepare(tc, SQL_MINE, &s);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 2, sc->branch_id);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 3, sc->teller_id);
        at = 4;
        break;
    case PERF_BRANCH:
        rc = tenant_prepare(tc, SQL_BRANCH, &s);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 2, sc->branch_id);
        at = 3;
        break;
    case PERF_TELLERS:
        rc = tenant_prepare(tc, SQL_TELLERS, &s);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 2, sc->branch_id);
        at = 3;
        break;
    case PERF_BANK:
        rc = tenant_prepare(tc, SQL_BANK, &s);
        at = 2;
        break;
    case PERF_PROVINCE:
        rc = tenant_prepare_province(tc, SQL_PROVINCE, &s);
        at = 1;
        break;
    default:
        return STORE_ERR;
    }
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, at, kind_s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, at + 1, start);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct perf_row r = {.bank_id = tenant_col_int64(s, 0),
                             .branch_id = tenant_col_int64(s, 1),
                             .metric = tenant_col_text(s, 2),
                             .qty = tenant_col_int64(s, 3),
                             .amount = tenant_col_int64(s, 4),
                             .teller_id = tenant_col_int64(s, 5)};
        rc = r.metric ? fn(&r, arg) : STORE_ERR;
    }
    tenant_finish(s);
    return done(rc);
}
