#include "appstore/package.h"
#include "identity/identity.h"

#include <stdio.h>
#include <string.h>

#define COLS                                                                                       \
    "id, app, kind, version, version_code, min_version, min_version_code, notes, target, "         \
    "rollout_percent, size, sm3, signature, sig_kid, state, created_by, created_at, withdrawn_at"

static const char *const TARGETS[] = {
    [PKG_TARGET_ALL] = "all", [PKG_TARGET_BANKS] = "banks", [PKG_TARGET_BRANCHES] = "branches"};

/* One part of a version: 1..4 digits, no leading zero but "0", <= max. */
static const char *version_part(const char *p, int64_t max, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; p++, n++)
        v = v * 10 + (*p - '0');
    if (n == 0 || n > 4 || (n > 1 && p[-n] == '0') || v > max)
        return NULL;
    *out = v;
    return p;
}

int64_t pkg_version_code(const char *v)
{
    int64_t part[3] = {0, 0, 0};
    static const int64_t max[3] = {9999, 999, 999};
    if (!v || strlen(v) > PKG_VERSION_MAX)
        return -1;
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        if (!(p = version_part(p, max[i], &part[i])))
            return -1;
        if (!*p)
            break;
        if (*p != '.' || i == 2)
            return -1;
        p++;
    }
    if (*p)
        return -1;
    return part[0] * 1000000 + part[1] * 1000 + part[2];
}

bool pkg_valid_app(const char *app)
{
    size_t n = app ? strlen(app) : 0;
    if (n == 0 || n > PKG_APP_MAX || !(app[0] >= 'a' && app[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = app[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

bool pkg_valid_kind(const char *kind)
{
    return kind && (strcmp(kind, "h5") == 0 || strcmp(kind, "apk") == 0);
}

int pkg_file_path(const char *data_dir, const char *sm3_hex, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/" PKG_DIR "/%s", data_dir, sm3_hex);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static bool valid(const struct pkg *p)
{
    if (!pkg_valid_app(p->app) || !pkg_valid_kind(p->kind) ||
        pkg_version_code(p->version) != p->version_code || p->version_code < 0 ||
        p->rollout_percent < 0 || p->rollout_percent > 100 || p->size < 0 ||
        strlen(p->sm3) != PKG_SM3_HEX || !p->signature[0] || !p->sig_kid[0] ||
        p->target < PKG_TARGET_ALL || p->target > PKG_TARGET_BRANCHES || p->ntargets < 0 ||
        p->ntargets > PKG_TARGETS_MAX || (p->target == PKG_TARGET_ALL) != (p->ntargets == 0))
        return false;
    if (p->min_version[0] && (pkg_version_code(p->min_version) != p->min_version_code ||
                              p->min_version_code > p->version_code))
        return false;
    return p->min_version[0] || p->min_version_code == 0;
}

static int add_target(struct store_conn *c, int64_t id, const struct pkg_target_row *t)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "INSERT INTO store_targets (package_id, bank_id, branch_id) VALUES (?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, t->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, t->branch_id);
    if (rc == STORE_OK)
        rc = store_step(s) == STORE_DONE ? STORE_OK : store_last_error(c);
    store_finish(s);
    return rc == STORE_CONSTRAINT ? ID_BAD_INPUT : rc; /* the same target twice */
}

int pkg_add(struct store_conn *c, struct pkg *p)
{
    if (!c || !p || !valid(p))
        return ID_BAD_INPUT;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO store_packages (app, kind, version, version_code, "
                           "min_version, min_version_code, notes, target, rollout_percent, size, "
                           "sm3, signature, sig_kid, state, created_by, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                           &s);
    int i = 1;
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->app);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->kind);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->version);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, i++, p->version_code);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->min_version[0] ? p->min_version : NULL);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, i++, p->min_version_code);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->notes);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, TARGETS[p->target]);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, i++, p->rollout_percent);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, i++, p->size);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->sm3);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->signature);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->sig_kid);
    if (rc == STORE_OK)
        rc = store_bind_text(s, i++, p->created_by);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, i++, p->created_at);
    if (rc == STORE_OK)
        rc = store_step(s) == STORE_DONE ? STORE_OK : store_last_error(c);
    store_finish(s);
    if (rc == STORE_CONSTRAINT)
        return ID_EXISTS;
    if (rc != STORE_OK)
        return rc;
    p->id = store_last_insert_id(c);
    p->active = true;
    for (int t = 0; rc == STORE_OK && t < p->ntargets; t++)
        rc = add_target(c, p->id, &p->targets[t]);
    return rc;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void row(struct store_stmt *s, struct pkg *p)
{
    memset(p, 0, sizeof *p);
    p->id = store_col_int64(s, 0);
    copy(p->app, sizeof p->app, store_col_text(s, 1));
    copy(p->kind, sizeof p->kind, store_col_text(s, 2));
    copy(p->version, sizeof p->version, store_col_text(s, 3));
    p->version_code = store_col_int64(s, 4);
    copy(p->min_version, sizeof p->min_version, store_col_text(s, 5));
    p->min_version_code = store_col_int64(s, 6);
    copy(p->notes, sizeof p->notes, store_col_text(s, 7));
    const char *t = store_col_text(s, 8);
    p->target = t && strcmp(t, "banks") == 0      ? PKG_TARGET_BANKS
                : t && strcmp(t, "branches") == 0 ? PKG_TARGET_BRANCHES
                                                  : PKG_TARGET_ALL;
    p->rollout_percent = (int)store_col_int64(s, 9);
    p->size = store_col_int64(s, 10);
    copy(p->sm3, sizeof p->sm3, store_col_text(s, 11));
    copy(p->signature, sizeof p->signature, store_col_text(s, 12));
    copy(p->sig_kid, sizeof p->sig_kid, store_col_text(s, 13));
    const char *st = store_col_text(s, 14);
    p->active = st && strcmp(st, "active") == 0;
    copy(p->created_by, sizeof p->created_by, store_col_text(s, 15));
    p->created_at = store_col_int64(s, 16);
    p->withdrawn_at = store_col_is_null(s, 17) ? 0 : store_col_int64(s, 17);
}

static int load_targets(struct store_conn *c, struct pkg *p)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "SELECT bank_id, branch_id FROM store_targets WHERE package_id = ? "
                           "ORDER BY bank_id, branch_id",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, p->id);
    p->ntargets = 0;
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        if (p->ntargets < PKG_TARGETS_MAX)
            p->targets[p->ntargets++] =
                (struct pkg_target_row){store_col_int64(s, 0), store_col_int64(s, 1)};
        rc = STORE_OK;
    }
    store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

int pkg_sm3_used(struct store_conn *c, const char *sm3_hex)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT id FROM store_packages WHERE sm3 = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, sm3_hex);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_ROW ? ID_OK : rc == STORE_DONE ? ID_NOT_FOUND : rc;
}

int pkg_get(struct store_conn *c, int64_t id, struct pkg *out)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT " COLS " FROM store_packages WHERE id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        row(s, out);
    store_finish(s);
    if (rc == STORE_DONE)
        return ID_NOT_FOUND;
    return rc == STORE_ROW ? load_targets(c, out) : rc;
}

int pkg_withdraw(struct store_conn *c, int64_t id, int64_t now_ms)
{
    struct pkg p;
    int rc = pkg_get(c, id, &p);
    if (rc != ID_OK)
        return rc;
    if (!p.active)
        return ID_CONFLICT;
    struct store_stmt *s = NULL;
    rc = store_prepare(c,
                       "UPDATE store_packages SET state = 'withdrawn', withdrawn_at = ? "
                       "WHERE id = ? AND state = 'active'",
                       &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now_ms);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = store_step(s) == STORE_DONE ? STORE_OK : store_last_error(c);
    store_finish(s);
    return rc;
}

/* Walks the rows of a prepared, bound statement. */
static int walk(struct store_stmt *s, int rc, pkg_fn fn, void *arg)
{
    struct pkg p;
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        row(s, &p);
        rc = fn(&p, arg);
    }
    store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

int pkg_list(struct store_conn *c, pkg_fn fn, void *arg)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT " COLS " FROM store_packages ORDER BY id DESC", &s);
    return walk(s, rc, fn, arg);
}

int pkg_for_device(struct store_conn *c, const char *app, int64_t bank_id, int64_t branch_id,
                   pkg_fn fn, void *arg)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c,
        "SELECT " COLS " FROM store_packages p WHERE p.app = ? AND p.state = 'active' "
        "AND (p.target = 'all' OR EXISTS (SELECT 1 FROM store_targets t "
        "WHERE t.package_id = p.id AND t.bank_id = ? AND (t.branch_id = 0 OR t.branch_id = ?))) "
        "ORDER BY p.version_code DESC, p.id DESC",
        &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, app);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, branch_id > 0 ? branch_id : -1);
    return walk(s, rc, fn, arg);
}
