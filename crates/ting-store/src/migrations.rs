//! The embedded schema migrations, one directory per backend (`migrations/sqlite`,
//! `migrations/postgres`), both with the same numbered files.
//!
//! They are embedded with `include_str!` rather than `sqlx::migrate!` so that sqlx's proc-macro
//! crate (and a second build of SQLite for the host) stays out of the build. A unit test checks
//! that every file in the directories is listed here.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, sql)` of one migration.
type Embedded = (i64, &'static str, &'static str);

const SQLITE: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "delivery",
        include_str!("../migrations/sqlite/0002_delivery.sql"),
    ),
    (
        3,
        "policy_audit",
        include_str!("../migrations/sqlite/0003_policy_audit.sql"),
    ),
    (
        4,
        "key_transparency",
        include_str!("../migrations/sqlite/0004_key_transparency.sql"),
    ),
    (
        5,
        "recovery",
        include_str!("../migrations/sqlite/0005_recovery.sql"),
    ),
    (
        6,
        "accounts",
        include_str!("../migrations/sqlite/0006_accounts.sql"),
    ),
];

const POSTGRES: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "delivery",
        include_str!("../migrations/postgres/0002_delivery.sql"),
    ),
    (
        3,
        "policy_audit",
        include_str!("../migrations/postgres/0003_policy_audit.sql"),
    ),
    (
        4,
        "key_transparency",
        include_str!("../migrations/postgres/0004_key_transparency.sql"),
    ),
    (
        5,
        "recovery",
        include_str!("../migrations/postgres/0005_recovery.sql"),
    ),
    (
        6,
        "accounts",
        include_str!("../migrations/postgres/0006_accounts.sql"),
    ),
];

fn migrator(list: &[Embedded]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The SQLite migrations' SQL, in order (the data inventory is parsed from their comments).
pub(crate) fn sqlite_sql() -> impl Iterator<Item = &'static str> {
    SQLITE.iter().map(|&(_, _, sql)| sql)
}

/// The SQLite migrations.
pub(crate) fn sqlite() -> Migrator {
    migrator(SQLITE)
}

/// The PostgreSQL migrations.
pub(crate) fn postgres() -> Migrator {
    migrator(POSTGRES)
}

#[cfg(test)]
mod tests {
    use super::{Embedded, POSTGRES, SQLITE};

    fn file_names(dir: &str) -> Vec<String> {
        let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    fn expected(list: &[Embedded]) -> Vec<String> {
        list.iter()
            .map(|(version, description, _)| format!("{version:04}_{description}.sql"))
            .collect()
    }

    #[test]
    fn every_migration_file_is_embedded() {
        assert_eq!(file_names("sqlite"), expected(SQLITE));
        assert_eq!(file_names("postgres"), expected(POSTGRES));
    }

    #[test]
    fn backends_have_the_same_columns_documented() {
        // Each column line is preceded by a "-- … Retention: …" comment line, in both backends.
        for (_, _, sql) in SQLITE.iter().chain(POSTGRES) {
            let lines: Vec<&str> = sql.lines().map(str::trim).collect();
            for (i, line) in lines.iter().enumerate() {
                let is_column = !line.starts_with("--")
                    && !line.starts_with("CREATE")
                    && !line.starts_with("CONSTRAINT")
                    && !line.starts_with("WHERE")
                    && !line.starts_with(')')
                    && !line.is_empty();
                if is_column {
                    let previous = if i == 0 { "" } else { lines[i - 1] };
                    assert!(
                        previous.starts_with("-- ") && previous.contains("Retention:"),
                        "column without a purpose/retention comment: {line}"
                    );
                }
            }
        }
        let columns = |sql: &str| -> Vec<String> {
            sql.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("-- ") && l.contains("Retention:"))
                .map(str::to_owned)
                .collect()
        };
        // The comments are identical except where a type is described.
        assert_eq!(SQLITE.len(), POSTGRES.len());
        for (sqlite, postgres) in SQLITE.iter().zip(POSTGRES) {
            assert_eq!(sqlite.0, postgres.0);
            assert_eq!(columns(sqlite.2).len(), columns(postgres.2).len());
        }
    }
}
