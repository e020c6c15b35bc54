/* org_names.c — the names of a bank and a branch, cached (see org.h). */
#include "identity/org.h"

#include "foundation/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SLOTS 64

struct slot {
    int64_t bank_id, branch_id;
    uint64_t at_ns; /* 0: empty */
    char bank[ORG_NAME_MAX + 1];
    char branch[ORG_NAME_MAX + 1];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct slot cache[SLOTS];

static bool fresh(const struct slot *s, uint64_t now)
{
    return s->at_ns && now - s->at_ns < (uint64_t)ORG_NAMES_TTL_MS * 1000000u;
}

int org_names(struct store_conn *c, int64_t bank_id, int64_t branch_id, char bank[ORG_NAME_MAX + 1],
              char branch[ORG_NAME_MAX + 1])
{
    uint64_t now = clock_mono_ns();
    bool hit = false;
    bank[0] = branch[0] = '\0';
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SLOTS && !hit; i++)
        if (fresh(&cache[i], now) && cache[i].bank_id == bank_id &&
            cache[i].branch_id == branch_id) {
            memcpy(bank, cache[i].bank, ORG_NAME_MAX + 1);
            memcpy(branch, cache[i].branch, ORG_NAME_MAX + 1);
            hit = true;
        }
    pthread_mutex_unlock(&mu);
    if (hit)
        return ID_OK;
    struct bank b;
    struct branch br;
    int rc = org_find_bank_id(c, bank_id, &b);
    if (rc == ID_OK)
        snprintf(bank, ORG_NAME_MAX + 1, "%s", b.name);
    else if (rc != ID_NOT_FOUND)
        return rc;
    rc = branch_id > 0 ? org_find_branch_id(c, branch_id, &br) : ID_NOT_FOUND;
    if (rc == ID_OK && br.bank_id == bank_id)
        snprintf(branch, ORG_NAME_MAX + 1, "%s", br.name);
    else if (rc != ID_OK && rc != ID_NOT_FOUND)
        return rc;
    pthread_mutex_lock(&mu);
    size_t oldest = 0;
    for (size_t i = 1; i < SLOTS; i++)
        if (cache[i].at_ns < cache[oldest].at_ns)
            oldest = i;
    cache[oldest] = (struct slot){.bank_id = bank_id, .branch_id = branch_id, .at_ns = now};
    memcpy(cache[oldest].bank, bank, ORG_NAME_MAX + 1);
    memcpy(cache[oldest].branch, branch, ORG_NAME_MAX + 1);
    pthread_mutex_unlock(&mu);
    return ID_OK;
}
