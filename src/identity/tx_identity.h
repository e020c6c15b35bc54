/* tx_identity — the identity layer's ZY1 transactions, for the registry. */
#ifndef ZHANYE_TX_IDENTITY_H
#define ZHANYE_TX_IDENTITY_H

#include "channel/tx.h"

extern const struct tx_def TX_DEVICE_ACTIVATE;
extern const struct tx_def TX_LOGIN;
extern const struct tx_def TX_LOGOUT;
extern const struct tx_def TX_PASSWORD_CHANGE;
extern const struct tx_def TX_SESSION_INFO;

#endif
