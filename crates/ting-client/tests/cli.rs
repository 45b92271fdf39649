//! The `ting-client` command line against a real server.

mod support;

use std::path::Path;
use std::process::Command;

use support::{PW, Server};

fn cli(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ting-client"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env("TING_PASSWORD", PW)
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
