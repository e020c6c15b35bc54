/* tx_store — the app store's ZY1 transaction, for the registry.
 *
 * APP_LATEST {"app","version"} (session required; read-only; open to a
 * device the device-management gate refuses, so it can always update):
 * the newest active package of app targeted at the session's bank or
 * branch whose rollout includes this device (appstore/rollout.h), with a
 * download token for this device (appstore/dltoken.h). Answers
 * {"update","forced","package"}: update when that package's version is
 * above the device's, forced when the device's version is below the
 * package's min_version; package null when there is no update. A package
 * of another bank is never seen (the target list is matched in SQL). A
 * version that is not MAJOR[.MINOR[.PATCH]] is bad_request. See docs/api.md
 * §1.21e. */
#ifndef ZHANYE_APPSTORE_TX_STORE_H
#define ZHANYE_APPSTORE_TX_STORE_H

#include "channel/tx.h"

extern const struct tx_def TX_APP_LATEST;

#endif
