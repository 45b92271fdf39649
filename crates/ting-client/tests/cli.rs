//! The `ting-client` command line against a real server.

mod support;

use std::path::Path;
use std::process::Command;

use support::{PW, Server};

fn cli(dir: &Path, args: &[&str]) -> (bool, String) {
    cli_stdin(dir, args, "")
}

#[test]
fn cli_chat_files_members_and_removal() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    server.create_user("alice");
    server.create_user("bob");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let url = server.url();
    let (ok, out) = cli(&a, &["login", "--server", &url, "--username", "alice"]);
    assert!(ok && out.contains("logged in as alice"), "{out}");
    assert!(cli(&b, &["login", "--server", &url, "--username", "bob"]).0);
    let (ok, out) = cli(&a, &["login", "--server", &url, "--username", "bob"]);
    assert!(
        !ok && out.contains("holds the device of"),
        "one device per directory: {out}"
    );

    let (ok, room) = cli(&a, &["create-room", "--name", "Ops"]);
    assert!(ok, "{room}");
    let (ok, out) = cli(&a, &["invite", "Ops", "bob"]);
    assert!(ok && out.contains("added 1 device(s) of bob"), "{out}");
    assert!(cli(&a, &["send", "Ops", "hello bob"]).0);
    let (ok, out) = cli(&b, &["sync"]);
    assert!(ok && out.contains("joined"), "{out}");
    let (ok, out) = cli(&b, &["messages", "Ops"]);
    assert!(
        ok && out.contains("alice: hello bob") && out.contains("named the room \"Ops\""),
        "{out}"
    );

    let file = tmp.path().join("minutes.txt");
    std::fs::write(&file, "minutes of the meeting\n".repeat(5000)).unwrap();
    let (ok, out) = cli(
        &a,
        &[
            "send-file",
            "Ops",
            file.to_str().unwrap(),
            "--media-type",
            "text/plain",
        ],
    );
    assert!(ok, "{out}");
    let (_, out) = cli(&b, &["messages", "Ops"]);
    let id = out
        .lines()
        .find(|l| l.contains("shared file"))
        .and_then(|l| l.split('[').nth(1))
        .map(|s| s[..8].to_string())
        .expect("file line");
    let dest = tmp.path().join("got.txt");
    let (ok, out) = cli(&b, &["get-file", "Ops", &id, dest.to_str().unwrap()]);
    assert!(ok && out.contains("hash verified"), "{out}");
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&file).unwrap());

    let (ok, out) = cli(&a, &["members", "Ops"]);
    assert!(
        ok && out.contains("bob (1 device(s))  safety number:") && out.contains("(you)"),
        "{out}"
    );
    let (ok, out) = cli(&a, &["remove", "Ops", "bob"]);
    assert!(ok && out.contains("keys rotated"), "{out}");
    assert!(cli(&a, &["send", "Ops", "after bob left"]).0);
    let (_, out) = cli(&b, &["sync"]);
    assert!(out.contains("removed from this room"), "{out}");
    let (_, out) = cli(&b, &["rooms"]);
    assert!(!out.contains("Ops"), "{out}");
    let (ok, out) = cli(&b, &["send", "Ops", "still here?"]);
    assert!(!ok, "{out}");
    let (ok, out) = cli(&a, &["send", "Nowhere", "x"]);
    assert!(!ok && out.contains("no room named"), "{out}");
    assert!(cli(&a, &["logout"]).0);
    let (ok, out) = cli(&a, &["rooms"]);
    assert!(!ok && out.contains("logged out"), "{out}");
}

/// Runs the CLI with `stdin` piped in.
fn cli_stdin(dir: &Path, args: &[&str], stdin: &str) -> (bool, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ting-client"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("TING_PASSWORD", PW)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn cli_links_a_second_device_and_recovers_with_the_recovery_key() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"), 0, None);
    server.create_user("alice");
    let url = server.url();
    let (laptop, phone, tablet) = (
        tmp.path().join("laptop"),
        tmp.path().join("phone"),
        tmp.path().join("tablet"),
    );
    assert!(cli(&laptop, &["login", "--server", &url, "--username", "alice"]).0);
    assert!(cli(&laptop, &["create-room", "--name", "Notes"]).0);
    let (ok, out) = cli(&phone, &["login", "--server", &url, "--username", "alice"]);
    assert!(ok && out.contains("not linked"), "{out}");

    // The phone shows a code and waits; the laptop approves it.
    let mut show = Command::new(env!("CARGO_BIN_EXE_ting-client"))
        .arg("--dir")
        .arg(&phone)
        .args(["link", "show", "--wait", "60"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(show.stdout.take().unwrap()));
    let mut fingerprint = String::new();
    let code = loop {
        let line = lines.next().expect("the code is printed").unwrap();
        if let Some(f) = line.strip_prefix("This device's key fingerprint: ") {
            fingerprint = f.to_owned();
        }
        if line.contains('.') && !line.contains(' ') {
            break line;
        }
    };
    let (ok, out) = cli(&laptop, &["link", "approve", &code]);
    assert!(!ok && out.contains("not approved"), "asks first: {out}");
    let (ok, out) = cli_stdin(&laptop, &["link", "approve", &code], "yes\n");
    assert!(ok, "{out}");
    assert!(
        out.contains(&fingerprint),
        "the same fingerprint on both: {out}"
    );
    assert!(out.contains("linked; added to 1 room(s)"), "{out}");
    assert!(show.wait().unwrap().success());
    let (ok, out) = cli(&phone, &["identity"]);
    assert!(ok && out.contains("(linked)"), "{out}");
    let (ok, out) = cli(&phone, &["sync"]);
    assert!(ok && out.contains("joined"), "{out}");

    // The recovery key, made on the phone, brings the identity to a third device.
    let (ok, out) = cli(&phone, &["recovery", "show"]);
    assert!(ok, "{out}");
    let key = out
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.matches('-').count() == 12)
        .expect("a recovery key is shown")
        .to_owned();
    assert!(cli(&tablet, &["login", "--server", &url, "--username", "alice"]).0);
    let (ok, out) = cli_stdin(&tablet, &["recover"], "0000-0000\n");
    assert!(!ok && out.contains("52 digits"), "{out}");
    let (ok, out) = cli_stdin(&tablet, &["recover"], &format!("{key}\n"));
    assert!(ok && out.contains("recovered"), "{out}");
    let (_, laptop_id) = cli(&laptop, &["identity"]);
    let (_, tablet_id) = cli(&tablet, &["identity"]);
    let key_line = |s: &str| s.lines().next().unwrap().to_owned();
    assert_eq!(
        key_line(&laptop_id),
        key_line(&tablet_id),
        "the same identity key"
    );
}
