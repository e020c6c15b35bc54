/* package — the app store's packages: the field app's H5 bundles and the
 * Android shell's APKs, in the directory database (table store_packages and
 * its target list store_targets, migration 23).
 *
 * Packages are the province's, not a bank's: one province admin uploads a
 * package once and targets it at every bank, a list of banks or a list of
 * branches, so the rows live in the directory (like banks and branches)
 * and not in the banks' shards. A package's bytes are a file of the data
 * directory, DATA/store/<sm3 hex>, content-addressed, written by the upload
 * handler (http/h_admin_store.c) before its row commits.
 *
 * Versions: "MAJOR[.MINOR[.PATCH]]" with MAJOR 0..9999, MINOR and PATCH
 * 0..999 (a missing part is 0); their order is the integer version_code =
 * MAJOR*1000000 + MINOR*1000 + PATCH, which is what every comparison uses.
 *
 * Every function takes a store connection of the directory and, for the
 * writes, runs inside the caller's transaction (store_run). Returns are
 * identity statuses (identity/identity.h: ID_OK, ID_NOT_FOUND, ID_EXISTS,
 * ID_CONFLICT, ID_BAD_INPUT) or a store status (data/store.h). */
#ifndef ZHANYE_APPSTORE_PACKAGE_H
#define ZHANYE_APPSTORE_PACKAGE_H

#include "data/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKG_APP_MAX 64
#define PKG_VERSION_MAX 32
#define PKG_NOTES_MAX 2000
#define PKG_SM3_HEX 64
#define PKG_SIG_MAX 128 /* base64 of a DER SM2 signature (<= 72 bytes: 96 characters) */
#define PKG_KID_MAX 32
#define PKG_ACTOR_MAX 48
#define PKG_TARGETS_MAX 64
#define PKG_DIR "store" /* under the data directory */

enum pkg_target {
    PKG_TARGET_ALL = 0,  /* every bank */
    PKG_TARGET_BANKS,    /* the banks of targets[] (branch_id 0) */
    PKG_TARGET_BRANCHES, /* the branches of targets[] */
};

struct pkg_target_row {
    int64_t bank_id, branch_id; /* branch_id 0: the whole bank */
};

struct pkg {
    int64_t id;
    char app[PKG_APP_MAX + 1];
    char kind[4]; /* "h5" or "apk" */
    char version[PKG_VERSION_MAX + 1];
    int64_t version_code;
    char min_version[PKG_VERSION_MAX + 1]; /* "": none forced */
    int64_t min_version_code;              /* 0: none */
    char notes[PKG_NOTES_MAX + 1];
    enum pkg_target target;
    int ntargets;
    struct pkg_target_row targets[PKG_TARGETS_MAX];
    int rollout_percent; /* 0..100 */
    int64_t size;
    char sm3[PKG_SM3_HEX + 1];       /* lowercase hex of the bytes' SM3 */
    char signature[PKG_SIG_MAX + 1]; /* base64 DER SM2 signature of the 32-byte SM3 */
    char sig_kid[PKG_KID_MAX + 1];   /* the server key (channel/keyring.h) that signed it */
    bool active;                     /* false: withdrawn */
    char created_by[PKG_ACTOR_MAX + 1];
    int64_t created_at;
    int64_t withdrawn_at; /* 0 while active */
};

/* The version's code, or -1 when v is not a version of the form above. */
int64_t pkg_version_code(const char *v);
/* An app id: 1..PKG_APP_MAX of [a-z0-9._-], starting with a letter
 * ("zhanye.tablet", "zhanye.shell"). */
bool pkg_valid_app(const char *app);
/* "h5" or "apk". */
bool pkg_valid_kind(const char *kind);
/* DATA/store/<sm3> into out; -1 if it does not fit. */
int pkg_file_path(const char *data_dir, const char *sm3_hex, char *out, size_t cap);

/* Inserts p (its fields checked: ID_BAD_INPUT) with its targets, active;
 * sets p->id. ID_EXISTS when the app has this version already (withdrawn
 * ones count: a version is never reused). */
int pkg_add(struct store_conn *c, struct pkg *p);
/* ID_OK when some package (active or withdrawn) has these bytes (its file
 * DATA/store/<sm3> is in use), ID_NOT_FOUND when none has. */
int pkg_sm3_used(struct store_conn *c, const char *sm3_hex);
/* The package id, targets included. ID_NOT_FOUND. */
int pkg_get(struct store_conn *c, int64_t id, struct pkg *out);
/* Marks it withdrawn: no device is offered it or may download it from
 * now on. ID_NOT_FOUND; ID_CONFLICT when it is withdrawn already. */
int pkg_withdraw(struct store_conn *c, int64_t id, int64_t now_ms);

/* Called with each package; a non-zero return stops the walk and is
 * returned. The package is valid during the call only. */
typedef int (*pkg_fn)(const struct pkg *p, void *arg);
/* Every package, newest first (targets not filled). */
int pkg_list(struct store_conn *c, pkg_fn fn, void *arg);
/* The active packages of app that target bank_id (every bank, the bank,
 * or, when branch_id > 0, that branch of it), highest version first. */
int pkg_for_device(struct store_conn *c, const char *app, int64_t bank_id, int64_t branch_id,
                   pkg_fn fn, void *arg);

#endif
