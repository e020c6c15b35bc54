/* Bank shards: the map of banks to databases and the fence (data/shard.h). */
#include "data/shard.h"

#include "data/store_backend.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_MAX 32

struct shard {
    char name[SHARD_NAME_MAX + 1];
    struct store *st;
    char (*codes)[CODE_MAX + 1]; /* the bank codes its `banks` lists */
    int ncodes;
};

struct place {
    int64_t bank_id;
    int idx; /* into shards.s */
};

struct shards {
    pthread_rwlock_t lock;
    struct shard s[SHARD_MAX + 1]; /* s[0]: main, the directory */
    int n;
    struct place *map; /* sorted by bank_id; banks placed outside main */
    size_t nmap;
};

int shards_new(struct store *dir, struct shards **out)
{
    struct shards *sh = calloc(1, sizeof *sh);
    if (!sh || pthread_rwlock_init(&sh->lock, NULL) != 0) {
        free(sh);
        return STORE_NOMEM;
    }
    snprintf(sh->s[0].name, sizeof sh->s[0].name, "%s", SHARD_MAIN);
    sh->s[0].st = dir;
    sh->n = 1;
    *out = sh;
    return STORE_OK;
}

void shards_free(struct shards *sh)
{
    if (!sh)
        return;
    for (int i = 0; i < sh->n; i++)
        free(sh->s[i].codes);
    free(sh->map);
    pthread_rwlock_destroy(&sh->lock);
    free(sh);
}

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > SHARD_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

static int find_name(const struct shards *sh, const char *name)
{
    for (int i = 0; i < sh->n; i++)
        if (strcmp(sh->s[i].name, name) == 0)
            return i;
    return -1;
}

static int find_code(const struct shards *sh, const char *code)
{
    for (int i = 1; i < sh->n; i++)
        for (int j = 0; j < sh->s[i].ncodes; j++)
            if (strcmp(sh->s[i].codes[j], code) == 0)
                return i;
    return -1;
}

/* Splits "B01, B02 B03" into sh->s[idx].codes. */
static int parse_codes(struct shards *sh, int idx, const char *banks)
{
    struct shard *s = &sh->s[idx];
    for (const char *p = banks ? banks : ""; *p;) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        char code[CODE_MAX + 1];
        if (n > CODE_MAX) {
            store_be_error("[shard.%s] banks: a bank code longer than %d bytes", s->name, CODE_MAX);
            return STORE_ERR;
        }
        memcpy(code, p, n);
        code[n] = '\0';
        p += n;
        int other = find_code(sh, code);
        if (other >= 0) {
            store_be_error("[shard.%s] banks: bank %s is already placed in shard %s", s->name, code,
                           sh->s[other].name);
            return STORE_ERR;
        }
        void *grown = realloc(s->codes, (size_t)(s->ncodes + 1) * sizeof *s->codes);
        if (!grown)
            return STORE_NOMEM;
        s->codes = grown;
        memcpy(s->codes[s->ncodes++], code, n + 1);
    }
    return STORE_OK;
}

int shards_add(struct shards *sh, const char *name, struct store *st, const char *banks)
{
    if (!valid_name(name) || !st) {
        store_be_error("a shard's name is 1..%d letters, digits, '_' or '-'", SHARD_NAME_MAX);
        return STORE_ERR;
    }
    if (find_name(sh, name) >= 0) {
        store_be_error("shard %s is defined twice (\"%s\" is the directory's own)", name,
                       SHARD_MAIN);
        return STORE_ERR;
    }
    if (sh->n > SHARD_MAX) {
        store_be_error("more than %d shards", SHARD_MAX);
        return STORE_ERR;
    }
    int idx = sh->n;
    sh->s[idx] = (struct shard){.st = st};
    snprintf(sh->s[idx].name, sizeof sh->s[idx].name, "%s", name);
    int rc = parse_codes(sh, idx, banks);
    if (rc != STORE_OK) {
        free(sh->s[idx].codes);
        sh->s[idx] = (struct shard){0};
        return rc;
    }
    sh->n++;
    return STORE_OK;
}

/* ---- the map --------------------------------------------------------------- */

static int cmp_place(const void *a, const void *b)
{
    int64_t x = ((const struct place *)a)->bank_id, y = ((const struct place *)b)->bank_id;
    return (x > y) - (x < y);
}

/* Sets (or adds) bank_id's placement in the array being built. */
static int place(struct place **map, size_t *n, size_t *cap, int64_t bank_id, int idx)
{
    for (size_t i = 0; i < *n; i++)
        if ((*map)[i].bank_id == bank_id) {
            (*map)[i].idx = idx;
            return STORE_OK;
        }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *grown = realloc(*map, ncap * sizeof **map);
        if (!grown)
            return STORE_NOMEM;
        *map = grown;
        *cap = ncap;
    }
    (*map)[(*n)++] = (struct place){bank_id, idx};
    return STORE_OK;
}

static int read_map(struct shards *sh, struct store_conn *c, struct place **map, size_t *n)
{
    size_t cap = 0;
    struct store_stmt *s = NULL;
    int rc = STORE_OK;
    if (sh->n > 1) { /* the configured placement, by code */
        rc = store_prepare(c, "SELECT id, code FROM banks", &s);
        while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
            int idx = find_code(sh, store_col_text(s, 1) ? store_col_text(s, 1) : "");
            rc = idx > 0 ? place(map, n, &cap, store_col_int64(s, 0), idx) : STORE_OK;
        }
        store_finish(s);
        if (rc != STORE_DONE)
            return rc;
    }
    rc = store_prepare(c, "SELECT bank_id, shard FROM bank_shards", &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        const char *name = store_col_text(s, 1);
        int idx = name ? find_name(sh, name) : -1;
        if (idx < 0) {
            store_be_error("bank_shards places bank %lld in shard \"%s\", which no [shard.%s] "
                           "section defines",
                           (long long)store_col_int64(s, 0), name ? name : "", name ? name : "");
            rc = STORE_ERR;
            break;
        }
        rc = place(map, n, &cap, store_col_int64(s, 0), idx);
    }
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int shards_reload(struct shards *sh)
{
    struct store_conn *c = NULL;
    int rc = store_acquire(sh->s[0].st, &c);
    if (rc != STORE_OK)
        return rc;
    struct place *map = NULL;
    size_t n = 0;
    rc = read_map(sh, c, &map, &n);
    store_release(c);
    if (rc != STORE_OK) {
        free(map);
        return rc;
    }
    if (n)
        qsort(map, n, sizeof *map, cmp_place);
    pthread_rwlock_wrlock(&sh->lock);
    struct place *old = sh->map;
    sh->map = map;
    sh->nmap = n;
    pthread_rwlock_unlock(&sh->lock);
    free(old);
    return STORE_OK;
}

struct store *shards_route(struct shards *sh, int64_t bank_id, char *name)
{
    int idx = 0;
    pthread_rwlock_rdlock(&sh->lock);
    struct place key = {.bank_id = bank_id};
    const struct place *p =
        sh->nmap ? bsearch(&key, sh->map, sh->nmap, sizeof key, cmp_place) : NULL;
    if (p)
        idx = p->idx;
    pthread_rwlock_unlock(&sh->lock);
    if (name)
        snprintf(name, SHARD_NAME_MAX + 1, "%s", sh->s[idx].name);
    return sh->s[idx].st;
}

struct store *shards_store(struct shards *sh, const char *name)
{
    int idx = name ? find_name(sh, name) : -1;
    return idx >= 0 ? sh->s[idx].st : NULL;
}

int shards_count(const struct shards *sh)
{
    return sh->n - 1;
}

int shards_each(struct shards *sh, int (*fn)(const char *name, struct store *st, void *arg),
                void *arg)
{
    for (int i = 0; i < sh->n; i++) {
        int rc = fn(sh->s[i].name, sh->s[i].st, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- the fence ------------------------------------------------------------- */

int shard_fence(struct store_conn *c, int64_t bank_id)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT state FROM shard_banks WHERE bank_id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        const char *state = store_col_text(s, 0);
        rc = !state || strcmp(state, "active") == 0 ? SHARD_HERE
             : strcmp(state, "moving") == 0         ? SHARD_MOVING
                                                    : SHARD_GONE;
    } else if (rc == STORE_DONE) {
        rc = SHARD_HERE;
    }
    store_finish(s);
    return rc;
}

int shard_fence_set(struct store_conn *c, int64_t bank_id, const char *state, int64_t now_ms)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "DELETE FROM shard_banks WHERE bank_id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    if (rc != STORE_DONE || !state)
        return rc == STORE_DONE ? STORE_OK : rc;
    rc = store_prepare(c, "INSERT INTO shard_banks (bank_id, state, since) VALUES (?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, state);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, now_ms);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}
