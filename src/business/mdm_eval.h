/* mdm_eval — the pure evaluation of a device's report against a policy
 * (mobile device management, docs/api.md §1.21b).
 *
 * A policy is a JSON object (business/mdm_policy.h builds the default and
 * reads a bank's own); a report is DEVICE_CHECKIN's `data`. Every rule whose
 * policy member is set is checked; a fact the report does not carry fails a
 * rule that requires it (an unreported `rooted` is not "not rooted"), except
 * the optional facts named below, which are only checked when reported.
 *
 * Rules (policy member -> rule name in a violation):
 *   min_os "x.y"              os_version      report.os (its first digits)
 *   min_app "x.y.z"           app_version     report.app_version
 *   apps_denied [ids]         app_denied      any reported app id listed
 *   apps_allowed [ids]        app_not_allowed an app id not listed (empty: any)
 *   usb_transfer false        usb             security.usb_debug true
 *   bluetooth false           bluetooth       security.bluetooth true (optional fact)
 *   wifi_allowed [ssids]      wifi            network.wifi_ssid not listed (empty
 *                                             list or no SSID reported: any)
 *   networks_allowed [types]  network         network.type ("wifi", "cellular",
 *                                             "ethernet") not listed (empty list
 *                                             or no type reported: any)
 *   vpn_required true         vpn             network.vpn not true
 *   geofence {lat,lng,radius_m} geofence      position {lat,lng} farther than
 *                                             radius_m (WGS-84, great circle), or
 *                                             no position reported
 *   screen_lock true          screen_lock     security.screen_lock not true
 *   screen_lock_timeout_s n   screen_lock_timeout  security.screen_lock_timeout_s
 *                                             > n (optional fact)
 *   encryption true           encryption      security.encrypted not true
 *   rooted_refused true       rooted          security.rooted not false
 * max_offline_days, checkin_interval_s and require_checkin are not facts of
 * a report: the device enforces the first, the gate (mdm_policy.h) the others. */
#ifndef ZHANYE_MDM_EVAL_H
#define ZHANYE_MDM_EVAL_H

#include <jansson.h>

/* Compares dotted numeric versions ("12", "1.4.10"), from the first digit
 * of each (so "Android 12.1" reads as 12.1); a missing part counts as 0.
 * <0, 0, >0 as strcmp. A string without digits is lowest. */
int mdm_version_cmp(const char *a, const char *b);

/* The violations of report under policy: a new JSON array of
 * {"rule","detail"} (detail Simplified Chinese), empty when compliant;
 * NULL only when out of memory. Neither argument is modified; a NULL or
 * non-object report is judged as an empty one. */
json_t *mdm_evaluate(const json_t *policy, const json_t *report);

#endif
