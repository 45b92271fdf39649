//! R1/R16 canary: known plaintext goes through messages, a room name and topic, a file's
//! content and its name; afterwards the server's database (SQLite files or a PostgreSQL dump),
//! blob directory, log and a core dump of the running server process (gcore) are searched for
//! the canaries and for secrets the clients export (file key, storage keys). None may appear.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use support::{PW, Server};
use ting_client::Device;
use ting_client::local::HistoryItem;

const MSG: &str = "CANARY-MSG-7f3a9c41-the-budget-is-secret";
const NAME: &str = "CANARY-ROOMNAME-5b2e8d";
const TOPIC: &str = "CANARY-TOPIC-c19f44";
const FILE_BODY: &str = "CANARY-FILEBODY-0a7d3e-classified-attachment";
const FILE_NAME: &str = "CANARY-FILENAME-e4b6.txt";

fn needles(secrets: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    let mut n: Vec<(String, Vec<u8>)> = [MSG, NAME, TOPIC, FILE_BODY, FILE_NAME]
        .iter()
        .map(|s| (s.to_string(), s.as_bytes().to_vec()))
        .collect();
    for (i, s) in secrets.iter().enumerate() {
        n.push((format!("secret {i} (raw)"), s.clone()));
        n.push((
            format!("secret {i} (hex)"),
            s.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into_bytes(),
        ));
        n.push((
            format!("secret {i} (base64)"),
            base64::engine::general_purpose::STANDARD
                .encode(s)
                .into_bytes(),
        ));
    }
    n
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out)
            } else {
                out.push(p)
            }
        }
    }
}

fn scan(what: &str, bytes: &[u8], needles: &[(String, Vec<u8>)]) {
    assert!(
        !bytes.is_empty() || what.contains("wal") || what.contains("shm") || what.contains("blobs"),
        "{what} is empty: the scan would prove nothing"
    );
    for (name, n) in needles {
        assert!(!find(bytes, n), "{name} found in {what}");
    }
}

fn pg_bin(name: &str) -> String {
    if Command::new(name).arg("--version").output().is_ok() {
        return name.into();
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().join("bin").join(name))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
        .pop()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| panic!("{name} not found"))
}

async fn exercise(server: &Server, tmp: &Path) -> Vec<Vec<u8>> {
    for u in ["alice", "bob"] {
        server.create_user(u);
    }
    let mut a = Device::login(
        &tmp.join("alice"),
        &server.url(),
        "alice",
        PW,
        "laptop",
        None,
    )
    .await
    .unwrap();
    let mut b = Device::login(&tmp.join("bob"), &server.url(), "bob", PW, "laptop", None)
        .await
        .unwrap();
    let room = a.create_room(Some(NAME)).await.unwrap();
    a.send_envelope(
        room,
        ting_e2ee::Envelope::new(ting_e2ee::Body::RoomTopic {
            topic: TOPIC.into(),
        })
        .unwrap(),
    )
    .await
    .unwrap();
    a.invite(room, "bob").await.unwrap();
    b.sync().await.unwrap();
    a.send_text(room, MSG).await.unwrap();
    b.send_text(room, &format!("re: {MSG}")).await.unwrap();
    let path = tmp.join(FILE_NAME);
    std::fs::write(&path, FILE_BODY.repeat(50)).unwrap();
    a.send_file(room, &path, "text/plain", |_, _| {})
        .await
        .unwrap();
    b.sync().await.unwrap();
    // The plaintext really went through: bob decrypted all of it.
    let local = b.room(room).unwrap();
    assert_eq!(local.name.as_deref(), Some(NAME));
    assert_eq!(local.topic.as_deref(), Some(TOPIC));
    let file = local
        .history
        .iter()
        .find_map(|e| match &e.item {
            HistoryItem::File { file, .. } => Some(file.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(file.name, FILE_NAME);
    assert!(support::texts(&b, room).contains(&MSG.to_string()));
    let out = tmp.join("downloaded.txt");
    b.download_file(&file, &out, |_, _| {}).await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), FILE_BODY.repeat(50));
    // Secrets the clients hold: the file key and both devices' storage keys.
    vec![
        file.key.to_vec(),
        std::fs::read(tmp.join("alice/device.key")).unwrap(),
        std::fs::read(tmp.join("bob/device.key")).unwrap(),
    ]
}

fn core_dump(server: &Server, dir: &Path) -> Vec<u8> {
    // What `gcore` does, without reading the binary's debug symbols (which takes a minute on a
    // debug build and is not needed to dump memory).
    let core = dir.join(format!("server-core.{}", server.pid()));
    let out = Command::new("gdb")
        .args([
            "--readnever",
            "-nx",
            "-batch",
            "-p",
            &server.pid().to_string(),
            "-ex",
        ])
        .arg(format!("gcore {}", core.display()))
        .output()
        .expect("gdb must be installed (apt-get install gdb)");
    assert!(
        core.exists(),
        "gcore failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&core).unwrap();
    std::fs::remove_file(&core).ok();
    assert!(bytes.len() > 1_000_000, "core dump suspiciously small");
    bytes
}

fn scan_server(
    server: &mut Server,
    tmp: &Path,
    secrets: &[Vec<u8>],
    extra: Option<(&str, Vec<u8>)>,
) {
    let needles = needles(secrets);
    scan(
        "core dump of the running server",
        &core_dump(server, tmp),
        &needles,
    );
    // Stop it gracefully so the database and logs are complete on disk.
    let _ = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status();
    let _ = server.child.wait();
    let mut files = Vec::new();
    files_under(&server.data, &mut files);
    assert!(
        files.iter().any(|f| f.to_string_lossy().contains("blobs")) || server.db_url.is_some(),
        "no blob was stored"
    );
    for f in &files {
        scan(
            &f.display().to_string(),
            &std::fs::read(f).unwrap(),
            &needles,
        );
    }
    let log = std::fs::read(&server.log).unwrap();
    assert!(
        String::from_utf8_lossy(&log).contains("request"),
        "the log has content to scan"
    );
    scan("server log", &log, &needles);
    if let Some((what, bytes)) = extra {
        scan(what, &bytes, &needles);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_never_reach_the_server_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("data"), 0, None);
    let secrets = exercise(&server, tmp.path()).await;
    scan_server(&mut server, tmp.path(), &secrets, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canaries_never_reach_the_server_postgres() {
    let Ok(base) = std::env::var("TING_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("TING_REQUIRE_POSTGRES").is_err(),
            "TING_REQUIRE_POSTGRES is set but TING_TEST_POSTGRES_URL is not"
        );
        eprintln!("skipping: TING_TEST_POSTGRES_URL is not set");
        return;
    };
    let db = format!("ting_canary_{}", std::process::id());
    let st = Command::new(pg_bin("psql"))
        .arg(&base)
        .args(["-q", "-c", &format!("CREATE DATABASE {db}")])
        .status()
        .unwrap();
    assert!(st.success());
    let url = format!("{}/{db}", base.rsplit_once('/').unwrap().0);
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Server::start(&tmp.path().join("data"), 0, Some(&url));
    let secrets = exercise(&server, tmp.path()).await;
    let dump = Command::new(pg_bin("pg_dump")).arg(&url).output().unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(
        String::from_utf8_lossy(&dump.stdout).contains("COPY public.messages"),
        "the dump has the message table"
    );
    scan_server(
        &mut server,
        tmp.path(),
        &secrets,
        Some(("PostgreSQL dump", dump.stdout)),
    );
}
