/* call — what `zhanye call` (cmd_call.c) shares with its device-management
 * agent (call_agent.c): one sealed round trip and the session token file
 * (call_io.c).
 *
 * call_exchange seals payload for tx with the device state st (act_code: the
 * activation code of DEVICE_ACTIVATE, else NULL), posts it, opens and prints
 * the answer's plaintext on stdout; *answer (may be left NULL) the parsed
 * plaintext. EXIT_OK when its code is OK, else EXIT_FAIL. call_round_trip is
 * call_exchange without an activation code.
 * The session token lives beside the state in STATE.sid (mode 0600):
 * call_sid_load ("" when none), call_sid_save (NULL deletes it). */
#ifndef ZHANYE_CLI_CALL_H
#define ZHANYE_CLI_CALL_H

#include "zyc.h"
#include "zyc_http.h"

#include <jansson.h>
#include <stddef.h>

int call_exchange(struct zyc_http *h, zyc_state *st, const char *act_code, const char *tx,
                  const char *payload, json_t **answer);
int call_round_trip(struct zyc_http *h, zyc_state *st, const char *tx, const char *payload,
                    json_t **answer);
int call_sid_load(const char *state, char *sid, size_t cap);
int call_sid_save(const char *state, const char *sid);

/* The check-in and command loop (call_agent.c), on the activated device of
 * state_path with a session (after `zhanye call ... LOGIN`): rounds times,
 * interval_ms apart, it first sends the acknowledgements left pending (a
 * lock's, once logged in again), then DEVICE_CHECKIN with the report in
 * report_path (a JSON object, the TX's data), and executes each delivered
 * command as a device agent would, acknowledging it with
 * DEVICE_COMMAND_ACK:
 *   wipe           deletes its local cached state (STATE.cache): done
 *   lock           drops its session (STATE.sid); the ack (done) is kept in
 *                  STATE.acks and sent after the next login
 *   refresh_policy checks in again in the next round: done
 *   update_app     failed, reason "zhanye call 不能安装应用"
 *   unbind         done; once acknowledged, forgets its device secret
 *                  (STATE, STATE.sid, STATE.cache deleted) and stops
 * Each step is printed on stdout as a line "agent: ...". EXIT_OK when every
 * round's check-in was answered OK, EXIT_FAIL otherwise (e.g. a session
 * ended by a lock: log in again), EXIT_USAGE for a bad report file. */
int call_agent(struct zyc_http *h, const char *state_path, const char *server, int rounds,
               const char *report_path, int interval_ms);

#endif
