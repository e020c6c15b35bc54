/* demo — the demonstration organisation `zhanye init --demo` creates.
 *
 *   P00 省联社 (province)          prov01  province_admin
 *   B01 青山农商银行                admin01 bank_admin
 *                                   agent01 video_agent (bank-wide)
 *       01 城关支行                 demo01  client_manager
 *                                   mgr01   branch_manager
 *       02 河东支行                 demo02  client_manager
 *   B02 绿水农信社                  admin02 bank_admin
 *                                   agent02 video_agent (bank-wide)
 *       01 南湖支行                 demo03  client_manager
 *                                   mgr02   branch_manager
 *       02 北岭支行                 demo04  client_manager
 *
 * Every teller gets the given password. All of it is one transaction: a
 * failure leaves nothing behind. A database that already has a province is
 * refused (ID_EXISTS): init runs once. */
#ifndef ZHANYE_DEMO_H
#define ZHANYE_DEMO_H

#include "data/store.h"
#include "identity/identity.h"
#include "identity/kek.h"

/* k is reserved for seeding sealed data (tickets); it may be NULL today. */
int demo_seed(struct store *st, const struct kek *k, const char *password);

#endif
