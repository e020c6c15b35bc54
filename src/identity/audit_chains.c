/* audit_chains.c — the list of a province's audit chains, one per
 * database (see audit.h). */
#include "identity/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collect {
    struct audit_chains *out;
    const char *data_dir;
    size_t cap;
};

static int add_chain(const char *name, struct store *st, void *arg)
{
    struct collect *k = arg;
    struct audit_chains *cs = k->out;
    if (cs->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 4;
        struct audit_chain *v = realloc(cs->v, cap * sizeof *v);
        if (!v)
            return STORE_NOMEM;
        cs->v = v;
        k->cap = cap;
    }
    struct audit_chain *ch = &cs->v[cs->n];
    memset(ch, 0, sizeof *ch);
    if (cs->n >= AUDIT_CHAINS_MAX || strlen(name) > SHARD_NAME_MAX ||
        audit_checkpoint_path_of(k->data_dir, name, ch->file, sizeof ch->file) != 0)
        return ID_BAD_INPUT;
    snprintf(ch->name, sizeof ch->name, "%s", name);
    ch->st = st;
    cs->n++;
    return 0;
}

int audit_chains_collect(struct shards *sh, const char *data_dir, struct audit_chains *out)
{
    struct collect k = {.out = out, .data_dir = data_dir};
    *out = (struct audit_chains){0};
    if (!sh || !data_dir)
        return ID_BAD_INPUT;
    int rc = shards_each(sh, add_chain, &k);
    if (rc != 0)
        audit_chains_free(out);
    return rc;
}

int audit_checkpoint_path(const char *data_dir, char *out, size_t cap)
{
    return audit_checkpoint_path_of(data_dir, AUDIT_CHAIN_MAIN, out, cap);
}

int audit_checkpoint_path_of(const char *data_dir, const char *name, char *out, size_t cap)
{
    int n = strcmp(name, AUDIT_CHAIN_MAIN) == 0
                ? snprintf(out, cap, "%s/%s", data_dir, AUDIT_CHECKPOINT_FILE)
                : snprintf(out, cap, "%s/" AUDIT_CHECKPOINT_PREFIX "%s.jsonl", data_dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void audit_chains_free(struct audit_chains *cs)
{
    if (!cs)
        return;
    free(cs->v);
    *cs = (struct audit_chains){0};
}

const struct audit_chain *audit_chains_find(const struct audit_chains *cs, const char *name)
{
    for (size_t i = 0; cs && name && i < cs->n; i++)
        if (strcmp(cs->v[i].name, name) == 0)
            return &cs->v[i];
    return NULL;
}
