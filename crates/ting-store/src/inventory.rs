//! The data inventory (R15): every stored column with its purpose, retention and whether the
//! host (whoever runs the server or its database) can read it, plus one entry per table for the
//! GDPR art. 30 record of processing.
//!
//! The single source of purpose and retention is the comment line that precedes every column in
//! the migrations (`-- <purpose>. Retention: <how long>.`, enforced by a test in
//! `migrations.rs`); [`fields`] parses them from the embedded SQLite migrations. What this file
//! adds by hand is what a comment cannot say well: [`TABLES`] (why the table exists, whose data
//! it holds) and [`HIDDEN_FROM_HOST`] (the columns whose value the host cannot read). A test
//! opens a migrated database on each backend and fails when a column exists without an
//! inventory entry or an entry names a column that does not exist.

use crate::migrations;

/// Can the host read the value?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Visibility {
    /// Yes: metadata the server needs in the clear (ids, times, sizes, membership).
    Visible,
    /// No: end-to-end encrypted (MLS ciphertext or a Welcome encrypted to a device).
    Ciphertext,
    /// Only a one-way hash (of a password or a bearer token).
    Hash,
    /// Yes, but it is public key material (no secret).
    PublicKey,
    /// Yes: a secret of the server itself (its own signing key), no user data.
    ServerSecret,
}

impl Visibility {
    /// The answer to "visible to the host?" in the report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Visible => "yes",
            Self::Ciphertext => "no (end-to-end encrypted)",
            Self::Hash => "only a one-way hash",
            Self::PublicKey => "yes (public key, no secret)",
            Self::ServerSecret => "yes (the server's own key, no user data)",
        }
    }
}

/// One stored column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// Why it is stored.
    pub purpose: &'static str,
    /// How long it is kept.
    pub retention: &'static str,
    /// Whether the host can read it.
    pub visibility: Visibility,
}

/// One table, for the record of processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// Purpose of the processing.
    pub purpose: &'static str,
    /// Categories of data subjects whose data it holds.
    pub subjects: &'static str,
    /// Whether it holds personal data (directly or by pseudonymous ids).
    pub personal: bool,
}

/// Every table of the schema.
pub const TABLES: &[Table] = &[
    Table {
        name: "users",
        purpose: "Authenticating accounts (local login).",
        subjects: "users (employees, members)",
        personal: true,
    },
    Table {
        name: "devices",
        purpose: "Binding each device's public signature key to its account so others can verify it.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "sessions",
        purpose: "Keeping devices logged in (bearer token hashes).",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "key_packages",
        purpose: "Letting others add a device to encrypted groups (public MLS KeyPackages).",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "rooms",
        purpose: "Routing encrypted messages to the right group.",
        subjects: "users (creators)",
        personal: true,
    },
    Table {
        name: "room_devices",
        purpose: "Routing: which devices receive a room's messages.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "messages",
        purpose: "Storing and forwarding end-to-end encrypted messages until delivered and retention ends.",
        subjects: "users (senders)",
        personal: true,
    },
    Table {
        name: "cursors",
        purpose: "Delivery: how far each device has read.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "welcomes",
        purpose: "Delivering encrypted MLS Welcomes to devices added to a room.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "blobs",
        purpose: "Storing end-to-end encrypted files (sizes and progress only).",
        subjects: "users (uploaders)",
        personal: true,
    },
    Table {
        name: "policies",
        purpose: "The organisation's policy and its history.",
        subjects: "administrators",
        personal: true,
    },
    Table {
        name: "audit_log",
        purpose: "Security accountability: tamper-evident record of admin and security events (GDPR art. 32).",
        subjects: "users, administrators",
        personal: true,
    },
    Table {
        name: "audit_anchor",
        purpose: "Keeping the audit chain verifiable after old records are pruned.",
        subjects: "none",
        personal: false,
    },
    Table {
        name: "key_log",
        purpose: "Key transparency: the append-only, publicly verifiable log of users' master keys, device certificates and revocations, so no one (the host included) can show a forged device unnoticed.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "key_log_cosignatures",
        purpose: "Proof that independent witnesses saw the same key log (no split view).",
        subjects: "none",
        personal: false,
    },
    Table {
        name: "link_rendezvous",
        purpose: "Linking a new device to an account: a short-lived meeting point for the new and an existing device.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "recovery_backups",
        purpose: "Account recovery: the user's identity key, encrypted under a recovery key only the user holds; the host cannot open it.",
        subjects: "users",
        personal: true,
    },
    Table {
        name: "invitations",
        purpose: "One-time links an administrator hands over to create an account or set a new password (token hashes only).",
        subjects: "users (invited people), administrators",
        personal: true,
    },
    Table {
        name: "server_secrets",
        purpose: "The server's own keys (e.g. the key log's checkpoint signing key), shared by all nodes.",
        subjects: "none",
        personal: false,
    },
    Table {
        name: "_sqlx_migrations",
        purpose: "Schema version bookkeeping of the database library.",
        subjects: "none",
        personal: false,
    },
];

/// Columns whose value the host cannot read (everything else is [`Visibility::Visible`]).
pub const HIDDEN_FROM_HOST: &[(&str, &str, Visibility)] = &[
    ("users", "password_hash", Visibility::Hash),
    ("sessions", "token_hash", Visibility::Hash),
    ("devices", "signature_key", Visibility::PublicKey),
    ("key_packages", "data", Visibility::PublicKey),
    ("messages", "payload", Visibility::Ciphertext),
    ("welcomes", "payload", Visibility::Ciphertext),
    ("key_log", "record", Visibility::PublicKey),
    ("link_rendezvous", "request", Visibility::PublicKey),
    ("link_rendezvous", "response", Visibility::Ciphertext),
    ("recovery_backups", "data", Visibility::Ciphertext),
    ("invitations", "token_hash", Visibility::Hash),
    ("server_secrets", "value", Visibility::ServerSecret),
];

/// sqlx's own bookkeeping table (created by the migrator, not by our migrations).
const SQLX_FIELDS: &[(&str, &str)] = &[
    ("version", "Applied migration number"),
    ("description", "Applied migration name"),
    ("installed_on", "When it was applied"),
    ("success", "Whether it succeeded"),
    ("checksum", "Checksum of the migration's SQL"),
    ("execution_time", "How long it took"),
];

fn visibility(table: &str, column: &str) -> Visibility {
    HIDDEN_FROM_HOST
        .iter()
        .find(|(t, c, _)| *t == table && *c == column)
        .map_or(Visibility::Visible, |&(_, _, v)| v)
}

/// Every stored column, in schema order.
pub fn fields() -> Vec<Field> {
    let mut out = Vec::new();
    for sql in migrations::sqlite_sql() {
        parse(sql, &mut out);
    }
    for &(column, purpose) in SQLX_FIELDS {
        out.push(Field {
            table: "_sqlx_migrations",
            column,
            purpose,
            retention: "forever (schema history)",
            visibility: Visibility::Visible,
        });
    }
    out
}

fn parse(sql: &'static str, out: &mut Vec<Field>) {
    let mut table: Option<&'static str> = None;
    let mut comment: Option<&'static str> = None;
    for line in sql.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            table = rest.split_whitespace().next();
            comment = None;
            continue;
        }
        if line.starts_with(')') {
            table = None;
            continue;
        }
        // `ALTER TABLE t ADD COLUMN c …`, after its comment line.
        if let Some(rest) = line.strip_prefix("ALTER TABLE ") {
            let mut words = rest.split_whitespace();
            if let (Some(t), Some("ADD"), Some("COLUMN"), Some(column), Some(text)) = (
                words.next(),
                words.next(),
                words.next(),
                words.next(),
                comment.take(),
            ) {
                push(out, t, column, text);
            }
            continue;
        }
        if let Some(text) = line.strip_prefix("-- ") {
            comment = text.contains("Retention:").then_some(text);
            continue;
        }
        let (Some(t), Some(text)) = (table, comment.take()) else {
            continue;
        };
        let Some(column) = line.split_whitespace().next() else {
            continue;
        };
        push(out, t, column, text);
    }
}

fn push(out: &mut Vec<Field>, table: &'static str, column: &'static str, text: &'static str) {
    let (purpose, retention) = text.split_once(" Retention:").unwrap_or((text, ""));
    out.push(Field {
        table,
        column,
        purpose: purpose.trim_end_matches('.'),
        retention: retention.trim().trim_end_matches('.'),
        visibility: visibility(table, column),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_and_override_is_known() {
        let fields = fields();
        for f in &fields {
            assert!(
                TABLES.iter().any(|t| t.name == f.table),
                "table {} has no TABLES entry",
                f.table
            );
            assert!(
                !f.retention.is_empty(),
                "{}.{}: no retention",
                f.table,
                f.column
            );
        }
        for (t, c, _) in HIDDEN_FROM_HOST {
            assert!(
                fields.iter().any(|f| f.table == *t && f.column == *c),
                "HIDDEN_FROM_HOST names {t}.{c}, which is not in the schema"
            );
        }
        assert_eq!(visibility("messages", "payload"), Visibility::Ciphertext);
        assert!(
            fields
                .iter()
                .any(|f| f.table == "audit_log" && f.column == "hash")
        );
    }
}
