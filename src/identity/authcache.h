/* authcache — the request path's cache of device and session records
 * (ZY1 steps 7 and 13), so that a transaction of a known tablet costs no
 * database read, no KEK opening of its device secret and no session lookup.
 *
 * An entry is used only while (a) the store's identity generation is the one
 * read before the entry was loaded (store.h, store_generation: any revoke,
 * unbind, activation, session end or teller status change committed by this
 * process makes every entry stale at once), and (b) it is younger than ttl_ms,
 * which bounds what writes of OTHER processes (the CLI, other nodes) may take
 * to be seen: `[identity] cache_ttl_ms`, 0 turns the cache off.
 *
 * Across nodes (Redis configured), writes of other nodes raise the
 * cluster's change generation, which the request path reads with the
 * envelope's anti-replay record (channel/nonce.h), i.e. after a device was
 * looked up here. So a device entry also keeps the cluster generation it
 * was validated against: at most the generation read before its database
 * read (authcache_cluster_gen: the latest one any request of this process
 * read). A request whose cluster generation differs from its cached
 * device's reads the device again (http/txauth.h, txauth_cluster_check); a
 * session entry's gen already includes the cluster generation of the
 * request that loaded it.
 *
 * Entries hold device secrets (DS) and session tokens: the same process
 * already holds the KEK that opens every DS, so this adds no new class of
 * exposure; entries are wiped when replaced and when the cache is closed.
 * Fixed size (AUTHCACHE_SLOTS per kind, direct-mapped by a keyed hash), so
 * memory is bounded whatever the traffic. Safe from any thread. */
#ifndef ZHANYE_AUTHCACHE_H
#define ZHANYE_AUTHCACHE_H

#include "identity/device.h"
#include "identity/session.h"

#include <stdbool.h>
#include <stdint.h>

#define AUTHCACHE_SLOTS 4096

struct authcache;

/* 0, or -1 (out of memory). ttl_ms 0: every lookup misses. */
int authcache_open(int64_t ttl_ms, struct authcache **out);
void authcache_close(struct authcache *ac);

/* A live cached device (with its DS) into out, and the cluster generation
 * it was validated against into *cluster: true, or false on a miss. */
bool authcache_device_get(struct authcache *ac, const char *dev, uint64_t gen, int64_t now_ms,
                          struct device *out, uint64_t *cluster);
/* Caches d (an active device with its DS), loaded under the store's
 * generation gen and the cluster's generation cluster (both read before
 * the database was). */
void authcache_device_put(struct authcache *ac, const struct device *d, uint64_t gen,
                          uint64_t cluster, int64_t now_ms);
/* Records a device_touch: the cached last_seen and last_addr. */
void authcache_device_touched(struct authcache *ac, const char *dev, const char *addr,
                              int64_t now_ms);

/* The cluster's change generation a request just read (0 without Redis),
 * and the latest one any request of this process read. */
void authcache_cluster_seen(struct authcache *ac, uint64_t cluster);
uint64_t authcache_cluster_gen(struct authcache *ac);

/* The cached session of token sid: true, or false on a miss. */
bool authcache_session_get(struct authcache *ac, const char *sid, uint64_t gen, int64_t now_ms,
                           struct session *out);
void authcache_session_put(struct authcache *ac, const char *sid, const struct session *s,
                           uint64_t gen, int64_t now_ms);

#endif
