//! Plain-text output of `ting-client admin`: tables, times, links.

use ting_proto::admin::{AdminUser, InvitationKind, IssuedInvitation};

use crate::api::Api;
use crate::{Error, Result};

pub(super) fn print_link(api: &Api, link: &IssuedInvitation) {
    println!("Link (shown once; the server keeps only its hash):");
    println!();
    println!("    {}{}", api.base(), link.link);
    println!();
    println!("It works once and expires {}.", when(link.expires_at));
}

pub(super) fn describe(u: &AdminUser) -> String {
    format!(
        "{} ({}, {}): {} active device(s), last seen {}",
        u.username,
        if u.is_admin { "administrator" } else { "user" },
        match u.deactivated_at {
            Some(t) => format!("deactivated {}", when(t)),
            None => "active".into(),
        },
        u.active_devices,
        opt_when(u.last_seen_at)
    )
}

pub(super) fn kind(k: InvitationKind) -> &'static str {
    match k {
        InvitationKind::Invite => "invitation",
        InvitationKind::PasswordReset => "password reset",
    }
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// An audit record's details as `key=value` pairs (times `…_at` as dates).
pub(super) fn details(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                serde_json::Value::Number(n) if k.ends_with("_at") && n.is_i64() => {
                    let t = when(n.as_i64().unwrap_or_default());
                    format!("{k}={}Z", t.trim_end_matches(" UTC").replacen(' ', "T", 1))
                }
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Prints rows under a header, columns padded to their widest cell.
pub(super) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.into_iter().collect();
    if rows.is_empty() {
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            s.push_str(c);
            if i < last {
                s.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
}

pub(super) fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

pub(super) fn write(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))
}

pub(super) fn opt_when(t: Option<i64>) -> String {
    t.map_or_else(|| "never".into(), when)
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC`.
pub(super) fn when(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

pub(super) fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m {}s", secs % 60),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
        assert_eq!(when(951_782_400 + 3_723), "2000-02-29 01:02 UTC");
        assert_eq!(when(1_767_225_599), "2025-12-31 23:59 UTC");
        assert_eq!(duration(3_725), "1h 2m");
        assert_eq!(duration(90_061), "1d 1h 1m");
        let d = serde_json::json!({ "expires_at": 0, "kind": "invite", "admin": true });
        assert_eq!(
            details(&d),
            "admin=true expires_at=1970-01-01T00:00Z kind=invite"
        );
    }
}
