/* migrations.c — the schema, one numbered step at a time.
 *
 * To add a migration, append one entry with the next version number. */
#include "data/migrations.h"

static const struct migration migrations[] = {
    {1, "seq_blocks",
     /* Serial counters reserved per (sequence name, node); see seq.c. */
     "CREATE TABLE seq_blocks ("
     "name VARCHAR(32) NOT NULL, "
     "node INTEGER NOT NULL, "
     "next_value BIGINT NOT NULL, "
     "last_day INTEGER NOT NULL, "
     "PRIMARY KEY (name, node))"},
    {2, "identity",
     /* Banks, branches, tellers, devices, activation tickets, sessions and
      * the audit chain; see src/identity/. Ids are `INTEGER PRIMARY KEY`
      * assigned by the database and read with store_last_insert_id(): the
      * rowid on SQLite, BIGINT AUTO_INCREMENT on MariaDB. These rows are
      * never deleted, so SQLite's reuse of a deleted highest rowid cannot
      * happen. audit_log.seq is assigned by audit_append (last + 1) because
      * the chain needs it strictly consecutive. Codes compare byte-wise:
      * MariaDB needs a binary collation for the code columns. Times are Unix
      * milliseconds. */
     "CREATE TABLE banks ("
     "id INTEGER PRIMARY KEY, "
     "code VARCHAR(16) NOT NULL, "
     "name VARCHAR(100) NOT NULL, "
     "kind VARCHAR(10) NOT NULL, "
     "parent_id BIGINT REFERENCES banks (id), "
     "status VARCHAR(10) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "CONSTRAINT banks_code UNIQUE (code), "
     "CHECK (kind IN ('province', 'bank')), "
     "CHECK (status IN ('active', 'disabled')));"
     "CREATE TABLE branches ("
     "id INTEGER PRIMARY KEY, "
     "bank_id BIGINT NOT NULL REFERENCES banks (id), "
     "code VARCHAR(16) NOT NULL, "
     "name VARCHAR(100) NOT NULL, "
     "status VARCHAR(10) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "CONSTRAINT branches_code UNIQUE (bank_id, code), "
     "CHECK (status IN ('active', 'disabled')));"
     "CREATE TABLE tellers ("
     "id INTEGER PRIMARY KEY, "
     "bank_id BIGINT NOT NULL REFERENCES banks (id), "
     "branch_id BIGINT REFERENCES branches (id), "
     "code VARCHAR(32) NOT NULL, "
     "name VARCHAR(100) NOT NULL, "
     "role VARCHAR(20) NOT NULL, "
     "pw_hash VARCHAR(255) NOT NULL, "
     "failed_logins INTEGER NOT NULL, "
     "locked_until BIGINT NOT NULL, "
     "pw_changed_at BIGINT NOT NULL, "
     "status VARCHAR(10) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "CONSTRAINT tellers_code UNIQUE (code), "
     "CHECK (role IN ('client_manager', 'branch_manager', 'bank_admin', 'province_admin')), "
     "CHECK (status IN ('active', 'disabled')));"
     "CREATE INDEX tellers_bank ON tellers (bank_id);"
     "CREATE TABLE devices ("
     "dev CHAR(32) NOT NULL PRIMARY KEY, "
     "bank_id BIGINT NOT NULL REFERENCES banks (id), "
     "teller_id BIGINT NOT NULL REFERENCES tellers (id), "
     "status VARCHAR(10) NOT NULL, "
     "ds_enc BLOB, "
     "model VARCHAR(64) NOT NULL, "
     "os VARCHAR(64) NOT NULL, "
     "app VARCHAR(64) NOT NULL, "
     "first_seen BIGINT NOT NULL, "
     "last_seen BIGINT NOT NULL, "
     "last_addr VARCHAR(64) NOT NULL, "
     "activated_at BIGINT NOT NULL, "
     "revoked_at BIGINT, "
     "CHECK (status IN ('active', 'revoked', 'unbound')));"
     "CREATE INDEX devices_teller ON devices (teller_id, status);"
     "CREATE INDEX devices_bank ON devices (bank_id);"
     "CREATE TABLE activation_tickets ("
     "id INTEGER PRIMARY KEY, "
     "bank_id BIGINT NOT NULL REFERENCES banks (id), "
     "teller_id BIGINT NOT NULL REFERENCES tellers (id), "
     "code_enc BLOB NOT NULL, "
     "expires_at BIGINT NOT NULL, "
     "attempts INTEGER NOT NULL, "
     "status VARCHAR(10) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "used_at BIGINT, "
     "dev CHAR(32), "
     "CHECK (status IN ('issued', 'used', 'locked', 'superseded')));"
     "CREATE INDEX activation_tickets_teller ON activation_tickets (teller_id, status);"
     "CREATE TABLE sessions ("
     "sid CHAR(64) NOT NULL PRIMARY KEY, "
     "bank_id BIGINT NOT NULL REFERENCES banks (id), "
     "teller_id BIGINT NOT NULL REFERENCES tellers (id), "
     "dev CHAR(32) NOT NULL REFERENCES devices (dev), "
     "created_at BIGINT NOT NULL, "
     "last_seen BIGINT NOT NULL, "
     "idle_ms BIGINT NOT NULL, "
     "expires_at BIGINT NOT NULL, "
     "ended_at BIGINT, "
     "end_reason VARCHAR(32));"
     "CREATE INDEX sessions_teller ON sessions (teller_id, ended_at);"
     "CREATE INDEX sessions_dev ON sessions (dev, ended_at);"
     "CREATE TABLE audit_log ("
     "seq BIGINT NOT NULL PRIMARY KEY, "
     "ts BIGINT NOT NULL, "
     "bank_id BIGINT NOT NULL, "
     "actor VARCHAR(64) NOT NULL, "
     "event VARCHAR(64) NOT NULL, "
     "target VARCHAR(128) NOT NULL, "
     "detail TEXT NOT NULL, "
     "prev_hash CHAR(64) NOT NULL, "
     "hash CHAR(64) NOT NULL);"
     "CREATE INDEX audit_log_bank ON audit_log (bank_id, seq)"},
    /* ZY1 step 14: the stored answer of every submission that carried a cseq. */
    {3, "tx_replies",
     "CREATE TABLE tx_replies ("
     "dev CHAR(32) NOT NULL, "
     "tx VARCHAR(32) NOT NULL, "
     "cseq VARCHAR(64) NOT NULL, "
     "bank_id BIGINT NOT NULL, "
     "reply TEXT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (dev, tx, cseq));"
     "CREATE INDEX tx_replies_created ON tx_replies (created_at)"},
    /* Web-console sessions of administrators (identity/admin_session.h),
     * apart from the tablets' `sessions`: no device, and they end on their
     * own. sid is hex(SM3(token)), never the token itself. */
    {4, "admin_sessions",
     "CREATE TABLE admin_sessions ("
     "sid CHAR(64) NOT NULL PRIMARY KEY, "
     "bank_id BIGINT NOT NULL REFERENCES banks (id), "
     "teller_id BIGINT NOT NULL REFERENCES tellers (id), "
     "client_addr VARCHAR(64) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "last_seen BIGINT NOT NULL, "
     "idle_ms BIGINT NOT NULL, "
     "expires_at BIGINT NOT NULL, "
     "ended_at BIGINT, "
     "end_reason VARCHAR(32));"
     "CREATE INDEX admin_sessions_teller ON admin_sessions (teller_id, ended_at);"
     "CREATE INDEX admin_sessions_bank ON admin_sessions (bank_id)"},
    /* ZY1 steps 8 and 11 across restarts (spec v1.1, amendment 3): every
     * (dev, nonce) an envelope used, until it can no longer pass the time
     * window (channel/nonce_db.h). Hex text, for both backends. */
    {5, "replay_nonces",
     "CREATE TABLE replay_nonces ("
     "dev CHAR(32) NOT NULL, "
     "nonce CHAR(32) NOT NULL, "
     "expires_at BIGINT NOT NULL, "
     "PRIMARY KEY (dev, nonce));"
     "CREATE INDEX replay_nonces_expires ON replay_nonces (expires_at)"},
    /* ZY1 step 14, v1.1 amendment 4: stored answers sealed at rest under the
     * KEK (they may carry a device secret or a session id), a pending claim
     * so that two concurrent duplicates run the work once, and dropped with
     * the device's binding. Replaces tx_replies, whose clear-text answers are
     * discarded: a retry of an answer stored before the upgrade runs again. */
    {6, "tx_answers",
     "DROP TABLE tx_replies;"
     "CREATE TABLE tx_answers ("
     "dev CHAR(32) NOT NULL, "
     "tx VARCHAR(32) NOT NULL, "
     "cseq VARCHAR(64) NOT NULL, "
     "bank_id BIGINT NOT NULL, "
     "state VARCHAR(10) NOT NULL, "
     "answer BLOB, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (dev, tx, cseq), "
     "CHECK (state IN ('pending', 'done')));"
     "CREATE INDEX tx_answers_created ON tx_answers (created_at)"},
    /* Signed checkpoints of the audit chain (identity/audit_checkpoint.h):
     * the head's seq and hash when signed, at ts, by the audit signing key;
     * sig is the hex of the DER SM2 signature. Also appended to the data
     * directory's audit-checkpoints.jsonl, to be shipped elsewhere. */
    {7, "audit_checkpoints",
     "CREATE TABLE audit_checkpoints ("
     "seq BIGINT NOT NULL PRIMARY KEY, "
     "ts BIGINT NOT NULL, "
     "hash CHAR(64) NOT NULL, "
     "sig VARCHAR(160) NOT NULL)"},
    /* The web console's own failure count and lock per teller, apart from
     * the tablets' failed_logins / locked_until (identity/teller.h). */
    {8, "console_lockout",
     "ALTER TABLE tellers ADD COLUMN console_failed_logins INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE tellers ADD COLUMN console_locked_until BIGINT NOT NULL DEFAULT 0"},
    /* Customers (src/business/customer_db.h). Business tables: every row is
     * one bank's (bank_id first in every key), ids are numbered per bank, no
     * reference to the identity tables (teller and branch ids are plain
     * numbers), so that a bank's rows can live in a shard database of their
     * own. The record and the history values are sealed under the KEK;
     * id_index / phone_index are keyed blind indexes (business/
     * customer_seal.h); only the name and the masked ID and phone are clear. */
    {9, "customers",
     "CREATE TABLE customers ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "version BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "kind VARCHAR(10) NOT NULL, "
     "name VARCHAR(200) NOT NULL, "
     "id_index CHAR(64) NOT NULL, "
     "id_masked VARCHAR(24) NOT NULL, "
     "phone_index CHAR(64), "
     "phone_masked VARCHAR(24), "
     "sealed BLOB NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CONSTRAINT customers_id_index UNIQUE (bank_id, id_index), "
     "CHECK (kind IN ('person', 'business')));"
     "CREATE INDEX customers_name ON customers (bank_id, name);"
     "CREATE INDEX customers_phone ON customers (bank_id, phone_index);"
     "CREATE TABLE customer_history ("
     "bank_id BIGINT NOT NULL, "
     "customer_id BIGINT NOT NULL, "
     "version BIGINT NOT NULL, "
     "field VARCHAR(32) NOT NULL, "
     "old_value BLOB, "
     "new_value BLOB, "
     "teller_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "changed_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, customer_id, version, field))"},
    /* Bank shards (data/shard.h). bank_shards, in the directory: banks
     * moved by `zhanye shard move` and where to. shard_banks, in every
     * database: the fence of banks that left it or moved into it. */
    {10, "bank_shards",
     "CREATE TABLE bank_shards ("
     "bank_id BIGINT NOT NULL PRIMARY KEY, "
     "shard VARCHAR(40) NOT NULL, "
     "moved_at BIGINT NOT NULL);"
     "CREATE TABLE shard_banks ("
     "bank_id BIGINT NOT NULL PRIMARY KEY, "
     "state VARCHAR(10) NOT NULL, "
     "since BIGINT NOT NULL, "
     "CHECK (state IN ('moving', 'gone', 'active')))"},
    /* Visits (src/business/visit_db.h). Business tables like customers':
     * bank_id first in every key, ids per bank, teller / branch / customer
     * ids as plain numbers. Positions are integer micro-degrees. A task
     * from the grid has grid_ref (the household's reference), unique per
     * bank and day: a second sync of the day adds nothing. */
    {12, "visits",
     "CREATE TABLE visit_tasks ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "task_day INTEGER NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "source VARCHAR(10) NOT NULL, "
     "grid_ref VARCHAR(64), "
     "customer_id BIGINT, "
     "target TEXT NOT NULL, "
     "lat_e6 BIGINT, "
     "lon_e6 BIGINT, "
     "leads TEXT NOT NULL, "
     "note VARCHAR(300) NOT NULL, "
     "status VARCHAR(10) NOT NULL, "
     "visit_id BIGINT, "
     "assigned_by BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CONSTRAINT visit_tasks_grid UNIQUE (bank_id, task_day, grid_ref), "
     "CHECK (source IN ('grid', 'manager')), "
     "CHECK (status IN ('open', 'done')));"
     "CREATE INDEX visit_tasks_mine ON visit_tasks (bank_id, teller_id, task_day);"
     "CREATE TABLE visits ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "task_id BIGINT, "
     "customer_id BIGINT, "
     "lat_e6 BIGINT NOT NULL, "
     "lon_e6 BIGINT NOT NULL, "
     "visited_at BIGINT NOT NULL, "
     "outcome VARCHAR(12) NOT NULL, "
     "notes TEXT NOT NULL, "
     "photos TEXT NOT NULL, "
     "next_step VARCHAR(300) NOT NULL, "
     "distance_m BIGINT, "
     "far INTEGER NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CHECK (outcome IN ('met', 'not_home', 'refused', 'interested', 'done')));"
     "CREATE INDEX visits_customer ON visits (bank_id, customer_id);"
     "CREATE TABLE visit_leads ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "visit_id BIGINT NOT NULL, "
     "task_id BIGINT, "
     "customer_id BIGINT, "
     "product VARCHAR(32) NOT NULL, "
     "note VARCHAR(300) NOT NULL, "
     "status VARCHAR(10) NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CHECK (status IN ('open', 'won', 'lost')))"},
    /* Attachments (src/business/attach_db.h): business tables, as 9's. A
     * content is one attachments row per bank (content-addressed: sm3
     * unique per bank), its chunks sealed under the KEK one row each
     * (BLOB: LONGBLOB on MariaDB), its links to customers, visits or
     * business references. The file name is sealed; the rest is clear. */
    {13, "attachments",
     "CREATE TABLE attachments ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "sm3 CHAR(64) NOT NULL, "
     "kind VARCHAR(10) NOT NULL, "
     "size BIGINT NOT NULL, "
     "chunks INTEGER NOT NULL, "
     "state VARCHAR(10) NOT NULL, "
     "mime VARCHAR(32) NOT NULL, "
     "name_sealed BLOB NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "stored_at BIGINT, "
     "PRIMARY KEY (bank_id, id), "
     "CONSTRAINT attachments_sm3 UNIQUE (bank_id, sm3), "
     "CHECK (kind IN ('photo', 'document')), "
     "CHECK (state IN ('uploading', 'stored', 'abandoned')));"
     "CREATE INDEX attachments_state ON attachments (state, created_at);"
     "CREATE TABLE attach_chunks ("
     "bank_id BIGINT NOT NULL, "
     "attachment_id BIGINT NOT NULL, "
     "idx INTEGER NOT NULL, "
     "len INTEGER NOT NULL, "
     "sealed BLOB NOT NULL, "
     "PRIMARY KEY (bank_id, attachment_id, idx));"
     "CREATE TABLE attach_links ("
     "bank_id BIGINT NOT NULL, "
     "attachment_id BIGINT NOT NULL, "
     "link_kind VARCHAR(10) NOT NULL, "
     "link_ref VARCHAR(40) NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, attachment_id, link_kind, link_ref), "
     "CHECK (link_kind IN ('customer', 'visit', 'business')));"
     "CREATE INDEX attach_links_subject ON attach_links (bank_id, link_kind, link_ref)"},
    /* Tags and recommendations (business/tag_catalog.h, tag_db.h,
     * product.h, recommend_db.h): business tables in the bank's shard,
     * bank_id first in every key, no reference to identity tables. */
    {14, "tags_recommendations",
     "CREATE TABLE tag_defs ("
     "bank_id BIGINT NOT NULL, "
     "code VARCHAR(32) NOT NULL, "
     "name VARCHAR(60) NOT NULL, "
     "kind VARCHAR(10) NOT NULL, "
     "rule TEXT, "
     "pos INTEGER NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, code), "
     "CHECK (kind IN ('manual', 'rule')));"
     "CREATE TABLE customer_tags ("
     "bank_id BIGINT NOT NULL, "
     "customer_id BIGINT NOT NULL, "
     "code VARCHAR(32) NOT NULL, "
     "source VARCHAR(10) NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "set_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, customer_id, code), "
     "CHECK (source IN ('manual', 'rule')));"
     "CREATE INDEX customer_tags_code ON customer_tags (bank_id, code);"
     "CREATE TABLE products ("
     "bank_id BIGINT NOT NULL, "
     "code VARCHAR(32) NOT NULL, "
     "name VARCHAR(60) NOT NULL, "
     "category VARCHAR(16) NOT NULL, "
     "base INTEGER NOT NULL, "
     "targets TEXT NOT NULL, "
     "pos INTEGER NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, code));"
     "CREATE TABLE recommend_feedback ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "customer_id BIGINT NOT NULL, "
     "product VARCHAR(32) NOT NULL, "
     "verdict VARCHAR(10) NOT NULL, "
     "tags TEXT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CHECK (verdict IN ('accepted', 'declined', 'later')));"
     "CREATE INDEX recommend_feedback_customer ON recommend_feedback (bank_id, customer_id);"
     "CREATE TABLE recommend_stats ("
     "bank_id BIGINT NOT NULL, "
     "product VARCHAR(32) NOT NULL, "
     "tag VARCHAR(32) NOT NULL, "
     "accepted BIGINT NOT NULL, "
     "declined BIGINT NOT NULL, "
     "later BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, product, tag))"},
    /* Performance counters (business/perf.h): per teller and per branch
     * (teller_id 0), period (day, week, month) and metric, added to in the
     * work's own transaction.
     * Indexed by period, in the order they group by, for the branch's,
     * the bank's and the province's summaries: a summary reads the
     * period's rows only, however many periods the table holds. */
    {15, "perf_counters",
     "CREATE TABLE perf_counters ("
     "bank_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "period_kind CHAR(1) NOT NULL, "
     "period_start INTEGER NOT NULL, "
     "metric VARCHAR(48) NOT NULL, "
     "qty BIGINT NOT NULL, "
     "amount BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, branch_id, teller_id, period_kind, period_start, metric), "
     "CHECK (period_kind IN ('d', 'w', 'm')));"
     "CREATE INDEX perf_counters_bank ON perf_counters "
     "(bank_id, teller_id, period_kind, period_start, branch_id, metric);"
     "CREATE INDEX perf_counters_period ON perf_counters "
     "(teller_id, period_kind, period_start, bank_id, metric)"},
    /* On-the-spot business (business/wf.h, wf_db.h): one row per business
     * and one per step that ran (done, failed attempts, compensated), in
     * the bank's shard. A step's result is sealed under the KEK (it may
     * hold an ID card's data or a signature). */
    {16, "business_flows",
     "CREATE TABLE biz ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "biz_no CHAR(14) NOT NULL, "
     "kind VARCHAR(16) NOT NULL, "
     "status VARCHAR(12) NOT NULL, "
     "next_step INTEGER NOT NULL, "
     "customer_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CONSTRAINT biz_no UNIQUE (bank_id, biz_no), "
     "CHECK (status IN ('open', 'completed', 'cancelling', 'cancelled')));"
     "CREATE INDEX biz_teller ON biz (bank_id, teller_id, id);"
     "CREATE TABLE biz_steps ("
     "bank_id BIGINT NOT NULL, "
     "biz_id BIGINT NOT NULL, "
     "idx INTEGER NOT NULL, "
     "step VARCHAR(16) NOT NULL, "
     "state VARCHAR(12) NOT NULL, "
     "attempt INTEGER NOT NULL, "
     "message VARCHAR(200) NOT NULL, "
     "sealed BLOB, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, biz_id, idx), "
     "CHECK (state IN ('failed', 'done', 'compensated')))"},
    /* Electronic vouchers (business/voucher_db.h): a business table of the
     * bank's shard, one row per issued voucher, never updated (no code
     * path writes it after the INSERT). The PDF is sealed under the KEK
     * (BLOB: LONGBLOB on MariaDB); its SM3 and the SM2 signature of it are
     * clear. What happens to a voucher later (delivery to the paperless
     * platform) goes in a table of its own keyed by (bank_id, voucher_id). */
    {17, "vouchers",
     "CREATE TABLE vouchers ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "kind VARCHAR(16) NOT NULL, "
     "serial VARCHAR(40) NOT NULL, "
     "customer_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "issued_at BIGINT NOT NULL, "
     "size BIGINT NOT NULL, "
     "sm3 CHAR(64) NOT NULL, "
     "sig VARCHAR(144) NOT NULL, "
     "key_id CHAR(16) NOT NULL, "
     "pdf_sealed BLOB NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CONSTRAINT vouchers_serial UNIQUE (bank_id, serial), "
     "CHECK (kind IN ('debit_card', 'ebank', 'loan', 'credit_card', 'social_card', "
     "'agency')));"
     "CREATE INDEX vouchers_sm3 ON vouchers (bank_id, sm3);"
     "CREATE INDEX vouchers_customer ON vouchers (bank_id, customer_id, id)"},
    /* A bank's own settings (business/attach_limit.h): one row per bank
     * that has any, in the bank's shard; attach_max_bytes NULL: the
     * deployment's [business] attach_max_bytes. */
    {18, "bank_settings",
     "CREATE TABLE bank_settings ("
     "bank_id BIGINT NOT NULL, "
     "attach_max_bytes BIGINT, "
     "actor VARCHAR(80) NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id))"},
    /* The delivery of each voucher to the paperless platform
     * (business/voucher_out.h): one row per voucher, written in the
     * transaction that issues it; the server's deliverer uploads the
     * pending ones (app/vdeliver.h). */
    {19, "voucher_outbox",
     "CREATE TABLE voucher_outbox ("
     "bank_id BIGINT NOT NULL, "
     "voucher_id BIGINT NOT NULL, "
     "status VARCHAR(12) NOT NULL, "
     "attempts INT NOT NULL, "
     "next_try_at BIGINT NOT NULL, "
     "last_error VARCHAR(200), "
     "receipt_no VARCHAR(64), "
     "delivered_at BIGINT, "
     "created_at BIGINT NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, voucher_id), "
     "CHECK (status IN ('pending', 'delivered', 'failed')));"
     "CREATE INDEX voucher_outbox_due ON voucher_outbox (bank_id, status, next_try_at)"},
    /* Limits changed from the console (app/overrides.h): a flow rule's or a
     * downstream system's key over zhanye.conf's value, for every node. */
    {20, "console_overrides",
     "CREATE TABLE console_overrides ("
     "area VARCHAR(8) NOT NULL, "
     "name VARCHAR(40) NOT NULL, "
     "k VARCHAR(32) NOT NULL, "
     "v VARCHAR(64) NOT NULL, "
     "actor VARCHAR(48) NOT NULL, "
     "updated_at BIGINT NOT NULL, "
     "PRIMARY KEY (area, name, k), "
     "CHECK (area IN ('flow', 'egress')))"},
    /* Mobile device management (business/mdm_policy.h): a bank's policies
     * (branch_id 0: the whole bank), every version kept, and the last
     * verdict of each device's DEVICE_CHECKIN. */
    {21, "mdm",
     "CREATE TABLE mdm_policies ("
     "bank_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "version BIGINT NOT NULL, "
     "policy TEXT NOT NULL, "
     "actor VARCHAR(48) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, branch_id, version));"
     "CREATE TABLE mdm_devices ("
     "bank_id BIGINT NOT NULL, "
     "dev VARCHAR(32) NOT NULL, "
     "compliant INTEGER NOT NULL, "
     "violations TEXT NOT NULL, "
     "policy_version BIGINT NOT NULL, "
     "checked_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, dev))"},
    /* The command queue of managed devices (business/mdm_command.h): ids
     * per bank; branch_id is the device's teller's when it was queued. And
     * the os and app version of each device's last check-in, for the
     * console (business/mdm_device.h). */
    {22, "mdm_commands",
     "CREATE TABLE mdm_commands ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "dev VARCHAR(32) NOT NULL, "
     "kind VARCHAR(16) NOT NULL, "
     "args TEXT NOT NULL, "
     "state VARCHAR(10) NOT NULL, "
     "reason VARCHAR(200) NOT NULL, "
     "actor VARCHAR(64) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "expires_at BIGINT NOT NULL, "
     "delivered_at BIGINT NOT NULL, "
     "closed_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CHECK (kind IN ('lock', 'wipe', 'refresh_policy', 'update_app', 'unbind')), "
     "CHECK (state IN ('queued', 'delivered', 'done', 'failed', 'expired')));"
     "CREATE INDEX mdm_commands_dev ON mdm_commands (bank_id, dev, state);"
     "ALTER TABLE mdm_devices ADD COLUMN os VARCHAR(64) NOT NULL DEFAULT '';"
     "ALTER TABLE mdm_devices ADD COLUMN app_version VARCHAR(32) NOT NULL DEFAULT ''"},
    /* The app store (appstore/package.h): the province's packages and whom
     * each targets, in the directory (not a bank's data: one package serves
     * many banks); the bytes are files DATA/store/<sm3>. */
    {23, "app_store",
     "CREATE TABLE store_packages ("
     "id INTEGER PRIMARY KEY, "
     "app VARCHAR(64) NOT NULL, "
     "kind VARCHAR(4) NOT NULL, "
     "version VARCHAR(32) NOT NULL, "
     "version_code BIGINT NOT NULL, "
     "min_version VARCHAR(32), "
     "min_version_code BIGINT NOT NULL, "
     "notes TEXT NOT NULL, "
     "target VARCHAR(10) NOT NULL, "
     "rollout_percent INTEGER NOT NULL, "
     "size BIGINT NOT NULL, "
     "sm3 VARCHAR(64) NOT NULL, "
     "signature VARCHAR(128) NOT NULL, "
     "sig_kid VARCHAR(32) NOT NULL, "
     "state VARCHAR(10) NOT NULL, "
     "created_by VARCHAR(48) NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "withdrawn_at BIGINT, "
     "CONSTRAINT store_packages_version UNIQUE (app, version), "
     "CHECK (kind IN ('h5', 'apk')), "
     "CHECK (target IN ('all', 'banks', 'branches')), "
     "CHECK (state IN ('active', 'withdrawn')), "
     "CHECK (rollout_percent BETWEEN 0 AND 100));"
     "CREATE INDEX store_packages_app ON store_packages (app, state, version_code);"
     "CREATE TABLE store_targets ("
     "package_id BIGINT NOT NULL, "
     "bank_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "PRIMARY KEY (package_id, bank_id, branch_id))"},
    /* Remote video assistance (business/video_call.h). video_agents (the
     * directory): the tellers holding the role video_agent (data/tenant.h),
     * stored as client_manager in tellers, whose CHECK cannot be changed
     * portably. video_calls (bank's shard): one row per call, from the
     * queue to its record; video_signals: the WebRTC signalling messages
     * between the two sides of a call, seq ascending per call. Times are
     * Unix ms; answered_at, connected_at, ended_at 0 until then. */
    {24, "video_calls",
     "CREATE TABLE video_agents ("
     "teller_id BIGINT NOT NULL, "
     "bank_id BIGINT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (teller_id));"
     "CREATE TABLE video_calls ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "state VARCHAR(10) NOT NULL, "
     "outcome VARCHAR(10), "
     "end_reason VARCHAR(40), "
     "teller_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "dev VARCHAR(32) NOT NULL, "
     "customer_id BIGINT, "
     "biz_id BIGINT, "
     "reason VARCHAR(200) NOT NULL, "
     "record INTEGER NOT NULL, "
     "recording_id VARCHAR(64), "
     "agent_id BIGINT, "
     "created_at BIGINT NOT NULL, "
     "answered_at BIGINT NOT NULL, "
     "connected_at BIGINT NOT NULL, "
     "ended_at BIGINT NOT NULL, "
     "tablet_seen BIGINT NOT NULL, "
     "agent_seen BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CHECK (state IN ('queued', 'ringing', 'connected', 'ended')), "
     "CHECK (outcome IS NULL OR outcome IN ('completed', 'abandoned', 'dropped', "
     "'rejected')));"
     "CREATE INDEX video_calls_state ON video_calls (bank_id, state, id);"
     "CREATE TABLE video_signals ("
     "bank_id BIGINT NOT NULL, "
     "call_id BIGINT NOT NULL, "
     "seq BIGINT NOT NULL, "
     "side VARCHAR(6) NOT NULL, "
     "kind VARCHAR(10) NOT NULL, "
     "payload TEXT NOT NULL, "
     "created_at BIGINT NOT NULL, "
     "PRIMARY KEY (bank_id, call_id, seq), "
     "CHECK (side IN ('tablet', 'agent')))"},
    /* Recorded video calls (双录, business/vrec.h): one row per recorded
     * call, from the customer's consent to the sealed files; files is a
     * JSON array of the sealed tracks ({kind, sm3, size, path}), sm3 the
     * recording's hash (of its video track). */
    {25, "video_recordings",
     "CREATE TABLE video_recordings ("
     "bank_id BIGINT NOT NULL, "
     "id BIGINT NOT NULL, "
     "call_id VARCHAR(64) NOT NULL, "
     "biz_no VARCHAR(32) NOT NULL, "
     "customer_id BIGINT NOT NULL, "
     "branch_id BIGINT NOT NULL, "
     "teller_id BIGINT NOT NULL, "
     "consent_by VARCHAR(64) NOT NULL, "
     "consent_at BIGINT NOT NULL, "
     "consent_version VARCHAR(32) NOT NULL, "
     "state VARCHAR(12) NOT NULL, "
     "room BIGINT NOT NULL, "
     "room_pin VARCHAR(32) NOT NULL, "
     "room_secret VARCHAR(64) NOT NULL, "
     "janus_session BIGINT NOT NULL, "
     "janus_handle BIGINT NOT NULL, "
     "started_at BIGINT NOT NULL, "
     "ended_at BIGINT NOT NULL, "
     "duration_ms BIGINT NOT NULL, "
     "size BIGINT NOT NULL, "
     "sm3 VARCHAR(64) NOT NULL, "
     "files TEXT NOT NULL, "
     "error VARCHAR(200) NOT NULL, "
     "PRIMARY KEY (bank_id, id), "
     "CONSTRAINT video_recordings_call UNIQUE (bank_id, call_id), "
     "CHECK (state IN ('recording', 'stored', 'empty', 'failed')));"
     "CREATE INDEX video_recordings_biz ON video_recordings (bank_id, biz_no)"},
    /* The customer's consent to a recorded call (双录), captured on the
     * tablet before the call is queued (business/video_call.h): the consent
     * text's version, who captured it, when (Unix ms); '' and 0 for a call
     * that is not recorded. The recording is started from it when an agent
     * takes the call (http/h_admin_video.c). */
    {26, "video_call_consent",
     "ALTER TABLE video_calls ADD COLUMN consent_version VARCHAR(32) NOT NULL DEFAULT '';"
     "ALTER TABLE video_calls ADD COLUMN consent_by VARCHAR(64) NOT NULL DEFAULT '';"
     "ALTER TABLE video_calls ADD COLUMN consent_at BIGINT NOT NULL DEFAULT 0"},
    /* Amendment 3 for read-only envelopes (channel/nonce_db.h): the latest
     * time (Unix ms) at which a process accepted one whose nonce it kept in
     * memory only; a new process refuses read-only envelopes sealed before
     * max(its start, this + 1 ms). One row. */
    {27, "replay_epoch",
     "CREATE TABLE replay_epoch (id INTEGER PRIMARY KEY, reads_until BIGINT NOT NULL);"
     "INSERT INTO replay_epoch (id, reads_until) VALUES (1, 0)"},
};

/* The tables of business data, each with a bank_id column: what lives in a
 * bank's shard and moves with it (data/shard.h). Append a table here in the
 * migration that creates it. */
static const char *const bank_tables[] = {"customers",
                                          "customer_history",
                                          "visit_tasks",
                                          "visits",
                                          "visit_leads",
                                          "attachments",
                                          "attach_chunks",
                                          "attach_links",
                                          "tag_defs",
                                          "customer_tags",
                                          "products",
                                          "recommend_feedback",
                                          "recommend_stats",
                                          "perf_counters",
                                          "vouchers",
                                          "bank_settings",
                                          "biz",
                                          "biz_steps",
                                          "voucher_outbox",
                                          "mdm_policies",
                                          "mdm_devices",
                                          "mdm_commands",
                                          "video_calls",
                                          "video_signals",
                                          "video_recordings",
                                          NULL};

const char *const *migrations_bank_tables(size_t *count)
{
    size_t n = 0;
    while (bank_tables[n])
        n++;
    *count = n;
    return bank_tables;
}

const struct migration *migrations_list(size_t *count)
{
    *count = sizeof migrations / sizeof migrations[0];
    return migrations;
}
