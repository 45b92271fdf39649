-- Ting store schema, version 3: organisation policy and the audit log (PostgreSQL).
--
-- Kept in step with migrations/sqlite/0003_policy_audit.sql: same tables, columns, constraints
-- and comments; only the types differ. Never edit a migration once released; add a new file.
--
-- Every column is preceded by one comment line "<purpose>. Retention: <how long>.".

-- Every policy ever set; the highest revision is in effect. History is kept.
CREATE TABLE policies (
    -- Revision number, from 1, one more than the previous. Retention: forever (policy history).
    revision BIGINT PRIMARY KEY CHECK (revision >= 1),
    -- The validated policy file (TOML), exactly as set. Retention: forever (policy history).
    document TEXT NOT NULL,
    -- Administrator who set it, NULL when set with the command line on the server. Retention: forever (policy history).
    set_by TEXT,
    -- When it was set. Retention: forever (policy history).
    set_at BIGINT NOT NULL
);

-- The append-only, hash-chained audit log of administrative and security events. No content.
CREATE TABLE audit_log (
    -- Position in the chain, from 1, gap-free. Retention: audit.retention_days.
    seq BIGINT PRIMARY KEY CHECK (seq >= 1),
    -- When the event happened. Retention: audit.retention_days.
    at BIGINT NOT NULL,
    -- Event type, e.g. 'login_failed' or 'policy_changed'. Retention: audit.retention_days.
    event TEXT NOT NULL,
    -- Account that acted, NULL for the system or an unknown username. Retention: audit.retention_days.
    actor_user TEXT,
    -- Device that acted, if any. Retention: audit.retention_days.
    actor_device TEXT,
    -- Account the event is about (may equal the actor), if any. Retention: audit.retention_days.
    target_user TEXT,
    -- Other object the event is about (device, room or policy revision id), if any. Retention: audit.retention_days.
    target TEXT,
    -- Client address truncated to its network (IPv4 /24, IPv6 /48), NULL if unknown. Retention: audit.retention_days.
    client_net TEXT,
    -- Event details as JSON, never content, passwords or keys. Retention: audit.retention_days.
    details TEXT NOT NULL,
    -- SHA-256 over the previous record's hash and this record's canonical encoding. Retention: audit.retention_days.
    hash BYTEA NOT NULL
);

CREATE INDEX audit_log_by_time ON audit_log (at);

-- Where the chain starts after pruning: the last pruned record's seq and hash (at most one row).
CREATE TABLE audit_anchor (
    -- Always 1: there is one anchor. Retention: as the row.
    id BIGINT PRIMARY KEY CHECK (id = 1),
    -- Seq of the last pruned record. Retention: replaced at each pruning.
    seq BIGINT NOT NULL CHECK (seq >= 1),
    -- Hash of the last pruned record; the first remaining record chains from it. Retention: replaced at each pruning.
    hash BYTEA NOT NULL,
    -- When the pruning happened. Retention: replaced at each pruning.
    pruned_at BIGINT NOT NULL
);
