//! `ting-client admin …` against a real server: invitations, accounts, roles, devices, the
//! policy, the audit log, the compliance report and health, with a signed-in device's session.

mod support;

use std::path::Path;
use std::process::Command;

use support::{PW, Server};

/// Runs the CLI; returns whether it succeeded and what it printed (stdout, then stderr).
fn cli(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ting-client"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("TING_PASSWORD", PW)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `admin …` as the administrator in `dir`, which must succeed.
fn admin(dir: &Path, args: &[&str]) -> String {
    let (ok, out) = cli(dir, &[&["admin"], args].concat());
    assert!(ok, "admin {args:?}: {out}");
    out
}

/// The token of the link the CLI printed (`<base>/invite#<token>`).
fn token_in(out: &str, url: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{url}/invite#")))
        .unwrap_or_else(|| panic!("no link in {out}"))
        .to_owned()
}

/// Uses a link over HTTP, as its holder's browser would; returns the status.
fn accept(url: &str, token: &str, password: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/api/v1/invitations/{token}"))
            .json(&serde_json::json!({ "password": password }))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

fn login(dir: &Path, url: &str, user: &str) -> (bool, String) {
    cli(dir, &["login", "--server", url, "--username", user])
}

#[test]
fn cli_admin_accounts_policy_audit_and_health() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    server.create_admin("ada");
    server.create_user("bob");
    let url = server.url();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    assert!(login(&a, &url, "ada").0);
    assert!(login(&b, &url, "bob").0);

    // Someone who is not an administrator is told so.
    let (ok, out) = cli(&b, &["admin", "users"]);
    assert!(
        !ok && out.contains("bob is not an administrator") && out.contains("admin_only"),
        "{out}"
    );

    // Invite carol: the full link, shown once, with its expiry; she uses it and signs in.
    let out = admin(&a, &["invite", "carol"]);
    assert!(
        out.contains("shown once") && out.contains("expires") && out.contains(" UTC"),
        "{out}"
    );
    let token = token_in(&out, &url);
    let out = admin(&a, &["invitations"]);
    assert!(
        out.contains("carol") && out.contains("invitation") && out.contains("ada"),
        "{out}"
    );
    assert!(
        !out.contains(&token),
        "listing never shows the token: {out}"
    );
    let (ok, out) = cli(&a, &["admin", "invite", "bob"]);
    assert!(!ok && out.contains("an account called bob exists"), "{out}");
    assert_eq!(accept(&url, &token, PW), 201);
    assert_eq!(accept(&url, &token, PW), 409, "a link works once");
    let (ok, out) = login(&c, &url, "carol");
    assert!(ok && out.contains("logged in as carol"), "{out}");

    // Listing and searching accounts.
    let out = admin(&a, &["users"]);
    for name in ["ada", "bob", "carol"] {
        assert!(out.contains(name), "{out}");
    }
    assert!(
        out.contains("USERNAME") && out.contains("3 account(s)"),
        "{out}"
    );
    let out = admin(&a, &["users", "--search", "CAR", "--all"]);
    assert!(
        out.contains("carol") && !out.contains("bob") && out.contains("1 account(s)"),
        "{out}"
    );
    let out = admin(&a, &["devices", "carol"]);
    assert!(
        out.contains("carol (user, active): 1 active device(s)") && out.contains("ting-client"),
        "{out}"
    );

    // Deactivated accounts cannot sign in until reactivated.
    let out = admin(&a, &["deactivate", "carol"]);
    assert!(out.contains("deactivated carol"), "{out}");
    let out = admin(&a, &["users", "--search", "carol"]);
    assert!(out.contains("deactivated 2"), "{out}");
    let (ok, out) = login(&tmp.path().join("c2"), &url, "carol");
    assert!(
        !ok && out.contains("deactivated by an administrator"),
        "{out}"
    );
    let (ok, out) = cli(&a, &["admin", "deactivate", "ada"]);
    assert!(!ok && out.contains("your own account"), "{out}");
    assert!(admin(&a, &["reactivate", "carol"]).contains("reactivated carol"));
    assert!(login(&c, &url, "carol").0);

    // Roles: never without an administrator.
    assert!(admin(&a, &["promote", "carol"]).contains("carol is an administrator"));
    let out = admin(&c, &["users", "--search", "carol"]);
    assert!(out.contains("admin"), "carol administers now: {out}");
    assert!(admin(&a, &["demote", "carol"]).contains("carol is no longer an administrator"));
    let (ok, out) = cli(&a, &["admin", "demote", "ada"]);
    assert!(
        !ok && out.contains("only active administrator") && out.contains("last_admin"),
        "{out}"
    );

    // Password-reset link, withdrawn before use.
    let out = admin(&a, &["reset-password", "carol"]);
    let reset = token_in(&out, &url);
    let out = admin(&a, &["invitations"]);
    let id = out
        .lines()
        .find(|l| l.contains("password reset"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert!(admin(&a, &["withdraw", &id]).contains("no longer works"));
    assert_eq!(accept(&url, &reset, "another long password"), 404);
    let (ok, out) = cli(&a, &["admin", "withdraw", &id]);
    assert!(!ok && out.contains("not valid"), "{out}");

    // Policy: problems name their line; a good file becomes revision 1.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "policy_version = 1\n\n[features]\nfile_sharing = \"no\"\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap();
    let (ok, out) = cli(&a, &["admin", "policy", "check", bad]);
    assert!(
        !ok && out.contains("line 4: ") && out.contains("is not a valid policy"),
        "{out}"
    );
    let (ok, out) = cli(&a, &["admin", "policy", "set", bad]);
    assert!(
        !ok && out.contains("line 4: ") && out.contains("invalid_policy"),
        "{out}"
    );
    assert!(admin(&a, &["policy", "show"]).contains("configuration defaults apply"));
    let good = tmp.path().join("good.toml");
    std::fs::write(
        &good,
        "policy_version = 1\n[features]\nfile_sharing = false\n",
    )
    .unwrap();
    let good = good.to_str().unwrap();
    let out = admin(&a, &["policy", "check", good]);
    assert!(
        out.contains("is a valid policy") && out.contains("file_sharing: true -> false"),
        "{out}"
    );
    assert!(admin(&a, &["policy", "set", good]).contains("policy revision 1 is in effect"));
    let out = admin(&a, &["policy", "show"]);
    assert!(
        out.contains("# revision 1") && out.contains("file_sharing = false"),
        "{out}"
    );
    let out = admin(&a, &["policy", "history"]);
    assert!(out.contains("REVISION") && out.contains("ada"), "{out}");

    // Devices: an administrator revokes one of carol's.
    let out = admin(&a, &["devices", "carol"]);
    let device = out
        .lines()
        .find(|l| l.contains("active") && !l.starts_with("carol"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert!(admin(&a, &["revoke-device", &device]).contains("revoked device"));
    assert!(admin(&a, &["revoke-device", &device]).contains("already revoked"));
    assert!(admin(&a, &["devices", "carol"]).contains("revoked 2"));

    // The audit log shows all of it, verifies and exports.
    let out = admin(&a, &["audit", "--limit", "500"]);
    for event in [
        "invitation_issued",
        "user_created",
        "user_deactivated",
        "user_reactivated",
        "admin_granted",
        "admin_revoked",
        "invitation_withdrawn",
        "policy_changed",
        "device_revoked",
    ] {
        assert!(out.contains(event), "{event} missing: {out}");
    }
    let out = admin(&a, &["audit", "--event", "policy_changed"]);
    let records: Vec<&str> = out.lines().skip(1).collect();
    assert!(
        records.len() == 1 && records[0].contains("ada") && records[0].contains("revision=1"),
        "{out}"
    );
    let out = admin(&a, &["audit", "--actor", "ada", "--limit", "2"]);
    assert!(
        out.lines().count() == 4 && out.contains("older records: --before"),
        "{out}"
    );
    let out = admin(&a, &["audit", "verify"]);
    let head = out
        .lines()
        .find(|l| l.starts_with("OK: "))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        head.len() == 64 && head.chars().all(|c| c.is_ascii_hexdigit()),
        "{out}"
    );
    let export = tmp.path().join("audit.jsonl");
    let out = admin(&a, &["audit", "export", "--out", export.to_str().unwrap()]);
    let lines = std::fs::read_to_string(&export).unwrap();
    assert!(
        lines.lines().count() > 9
            && out.contains(&format!("wrote {} record(s)", lines.lines().count())),
        "{out}"
    );
    for l in lines.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    assert!(admin(&a, &["audit", "--event", "audit_exported"]).contains("records="));

    // Compliance report and health.
    let out = admin(&a, &["compliance"]);
    assert!(out.starts_with("# Ting compliance report"), "{out}");
    let report = tmp.path().join("report.json");
    admin(
        &a,
        &[
            "compliance",
            "--format",
            "json",
            "--out",
            report.to_str().unwrap(),
        ],
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["title"], "Ting compliance report");
    let out = admin(&a, &["compliance", "--format", "html"]);
    assert!(out.to_lowercase().contains("<html"), "{out}");
    let out = admin(&a, &["health"]);
    assert!(
        out.contains("store:        sqlite (ok)") && out.contains("accounts:     3"),
        "{out}"
    );
    assert!(out.contains("media udp:"), "{out}");

    // bob is still refused everywhere.
    for args in [&["admin", "health"][..], &["admin", "audit", "verify"][..]] {
        let (ok, out) = cli(&b, args);
        assert!(!ok && out.contains("admin_only"), "{out}");
    }
}
