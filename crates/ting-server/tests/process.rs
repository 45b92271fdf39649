//! Tests against a real `ting serve` process on real sockets: restart on the same data
//! directory, the WebSocket event stream, TLS 1.3, the loopback rule and graceful shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const PW: &str = "correct horse battery staple";

struct Server {
    child: Child,
    port: u16,
    stderr: mpsc::Receiver<String>,
}

fn ting() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ting"));
    c.env_remove("TING_CONFIG")
        .env("TING_AUTH_ARGON2_MEMORY_KIB", "256")
        .env("TING_AUTH_ARGON2_ITERATIONS", "1")
        // Synthetic KeyPackages (basic credentials) below; enforcement is in keylog_http.rs.
        .env("TING_KEYLOG_REQUIRE_CERTIFICATES", "false");
    c
}

impl Server {
    fn start(data: &Path, extra: &[&str]) -> Server {
        let mut cmd = ting();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(extra);
        if let Ok(url) = std::env::var("TING_TEST_DATABASE_URL") {
            cmd.args(["--database-url", &url]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ting");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read listening line");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        std::thread::spawn(move || for _ in stdout.lines() {});
        Server {
            child,
            port,
            stderr: rx,
        }
    }

    /// The setup token printed on first start.
    fn setup_token(&self) -> String {
        loop {
            let line = self
                .stderr
                .recv_timeout(Duration::from_secs(20))
                .expect("setup link printed");
            if let Some(idx) = line.find("#token=") {
                return line[idx + 7..].trim().to_string();
            }
        }
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        http(self.port, method, path, token, body)
    }

    fn sigterm(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Minimal HTTP/1.1 client: one request per connection.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    parse_response(&resp)
}

fn parse_response(resp: &str) -> (u16, Value) {
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((resp, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn login(s: &Server, name: &str, key: u8) -> (String, String) {
    let (st, body) = s.request("POST", "/api/v1/auth/login", None, Some(json!({
        "username": name, "password": PW, "device_name": "laptop", "signature_key": b64(&[key; 32])})));
    assert_eq!(st, 200, "{body}");
    (
        body["token"].as_str().unwrap().into(),
        body["device"]["id"].as_str().unwrap().into(),
    )
}

fn kp(key: u8, last_resort: bool) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    b64(&ting_proto::mls_wire::build::key_package_message(
        &ting_proto::mls_wire::build::Synthetic {
            cipher_suite: 1,
            signature_key: vec![key; 32],
            identity: ting_proto::UserId::random().as_bytes().to_vec(),
            not_before: now - 60,
            not_after: now + 86_400,
            last_resort,
        },
    ))
}

#[test]
fn restart_keeps_users_devices_and_key_packages() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(dir.path(), &[]);
    assert_eq!(s.request("GET", "/healthz", None, None).0, 200);
    let token = s.setup_token();
    let (st, body) = s.request(
        "POST",
        "/api/v1/setup",
        None,
        Some(json!({"setup_token": token, "username": "admin", "password": PW})),
    );
    assert_eq!(st, 201, "{body}");
    let (ta, da) = login(&s, "admin", 1);
    let (st, body) = s.request("POST", "/api/v1/key-packages", Some(&ta), Some(json!({"key_packages": [kp(1, false), kp(1, false), kp(1, false)], "last_resort": kp(1, true)})));
    assert_eq!(st, 200, "{body}");
    assert!(s.sigterm().success(), "graceful shutdown exits 0");

    let s = Server::start(dir.path(), &[]);
    let (st, me) = s.request("GET", "/api/v1/me", Some(&ta), None);
    assert_eq!(st, 200, "session survives restart: {me}");
    assert_eq!(me["device"]["id"], da.as_str());
    let (_, count) = s.request("GET", "/api/v1/key-packages", Some(&ta), None);
    assert_eq!(count, json!({"available": 3, "has_last_resort": true}));
    let (_, devices) = s.request("GET", "/api/v1/devices", Some(&ta), None);
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
    let (st, body) = s.request(
        "POST",
        "/api/v1/setup",
        None,
        Some(json!({"setup_token": token, "username": "x", "password": PW})),
    );
    assert_eq!(
        (st, body["code"].as_str()),
        (409, Some("setup_already_done"))
    );

    // The admin CLI sees the same data.
    let out = ting()
        .args(["admin", "--data-dir"])
        .arg(dir.path())
        .arg("list-users")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("admin"));
}

#[test]
fn admin_cli_manages_users_and_devices() {
    let dir = tempfile::tempdir().unwrap();
    let admin = |args: &[&str], stdin: Option<&str>| {
        let mut c = ting();
        c.args(["admin", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, out) = admin(
        &["create-user", "carol", "--password-stdin"],
        Some(&format!("{PW}\n")),
    );
    assert!(ok, "{out}");
    let (ok, out) = admin(
        &["create-user", "carol", "--password-stdin"],
        Some(&format!("{PW}\n")),
    );
    assert!(!ok && out.contains("already taken"), "{out}");
    let (ok, out) = admin(
        &["create-user", "dave", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && out.contains("at least"), "{out}");
    let (ok, out) = admin(&["create-user", "erin"], None);
    assert!(ok && out.contains("generated password"), "{out}");

    let s = Server::start(dir.path(), &[]);
    let (token, device) = login(&s, "carol", 7);
    let (ok, out) = admin(&["list-devices", "carol"], None);
    assert!(
        ok && out.contains(&device) && out.contains("active"),
        "{out}"
    );
    let (ok, out) = admin(&["revoke-device", &device], None);
    assert!(ok, "{out}");
    assert_eq!(
        s.request("GET", "/api/v1/me", Some(&token), None).1["code"],
        "invalid_token"
    );
    let (ok, out) = admin(
        &["revoke-device", &ting_proto::DeviceId::random().to_string()],
        None,
    );
    assert!(!ok && out.contains("no device"), "{out}");
    let (ok, out) = admin(
        &["reset-password", "carol", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(ok, "{out}");
    let (st, _) = s.request("POST", "/api/v1/auth/login", None, Some(json!({"username": "carol", "password": "another long password", "device_name": "x", "signature_key": b64(&[8; 32])})));
    assert_eq!(st, 200);
    let (ok, out) = admin(&["list-devices", "nobody"], None);
    assert!(!ok && out.contains("no user"), "{out}");
}

#[test]
fn plain_http_is_refused_off_loopback_and_bad_config_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = ting()
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve plain HTTP") && err.contains("secure context"),
        "{err}"
    );
    let out = ting()
        .args(["serve", "--listen", "nonsense"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an address"));
    let out = ting().args(["config", "example"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[server]")
            && text.contains("listen = \"127.0.0.1:8080\"")
            && text.contains("# env: TING_DATABASE_URL")
    );
}

#[test]
fn tls13_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cp, kp) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cp, cert.cert.pem()).unwrap();
    std::fs::write(&kp, cert.signing_key.serialize_pem()).unwrap();
    let s = Server::start(
        &dir.path().join("data"),
        &[
            "--tls-cert",
            cp.to_str().unwrap(),
            "--tls-key",
            kp.to_str().unwrap(),
        ],
    );

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(std::sync::Arc::new(config), "localhost".try_into().unwrap())
            .unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    let _ = tls.read_to_string(&mut resp);
    assert_eq!(parse_response(&resp).0, 200, "{resp}");
    assert_eq!(
        conn.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 64];
    let n = plain.read(&mut buf).unwrap_or(0);
    assert!(!String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_auth_events_and_close_codes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[]);
    let token = s.setup_token();
    let port = s.port;
    let (st, _) = tokio::task::spawn_blocking(move || {
        http(
            port,
            "POST",
            "/api/v1/setup",
            None,
            Some(json!({"setup_token": token, "username": "admin", "password": PW})),
        )
    })
    .await
    .unwrap();
    assert_eq!(st, 201);
    let (t1, d1) = login(&s, "admin", 1);
    let url = format!("ws://127.0.0.1:{port}/api/v1/ws");

    // Header authentication.
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {t1}").parse().unwrap());
    let (mut ws1, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let hello = next_json(&mut ws1).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["device_id"], d1.as_str());

    // First-frame authentication (browsers), and application ping.
    let (mut ws2, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    ws2.send(Message::text(
        json!({"type": "auth", "token": t1}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws2).await["type"], "hello");
    ws2.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut ws2).await["type"], "pong");

    // A frame over the client limit closes with 1009 (message too big), not a bare drop.
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {t1}").parse().unwrap());
    let (mut big, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(next_json(&mut big).await["type"], "hello");
    let oversized = "x".repeat(ting_proto::ws::MAX_CLIENT_MESSAGE_BYTES + 1);
    big.send(Message::text(oversized)).await.unwrap();
    assert_eq!(close_code(&mut big).await, Some(1009));

    // A new device of the same user is announced once it can be added (first KeyPackages).
    let (t2, d2) = login(&s, "admin", 2);
    let (st, _) = http(
        port,
        "POST",
        "/api/v1/key-packages",
        Some(&t2),
        Some(json!({"key_packages": [kp(2, false)]})),
    );
    assert_eq!(st, 200);
    let ev = next_json(&mut ws1).await;
    assert_eq!(
        (ev["type"].as_str(), ev["device"]["id"].as_str()),
        (Some("device_added"), Some(d2.as_str()))
    );
    assert_eq!(next_json(&mut ws2).await["type"], "device_added");

    // Revoking device 1 from device 2 closes device 1's sockets with SESSION_ENDED.
    let (st, _) = http(
        port,
        "DELETE",
        &format!("/api/v1/devices/{d1}"),
        Some(&t2),
        None,
    );
    assert_eq!(st, 204);
    assert_eq!(close_code(&mut ws1).await, Some(4003));
    assert_eq!(close_code(&mut ws2).await, Some(4003));

    // Bad credentials and protocol errors.
    let (mut ws3, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    ws3.send(Message::text(
        json!({"type": "auth", "token": "ting_bogus"}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(close_code(&mut ws3).await, Some(4001));
    let (mut ws4, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    ws4.send(Message::text("not json")).await.unwrap();
    assert_eq!(close_code(&mut ws4).await, Some(4001));
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {t2}").parse().unwrap());
    let (mut ws5, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(next_json(&mut ws5).await["type"], "hello");
    ws5.send(Message::text("{\"type\":\"launch_missiles\"}"))
        .await
        .unwrap();
    assert_eq!(close_code(&mut ws5).await, Some(4000));

    // Logout closes the session's socket.
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", format!("Bearer {t2}").parse().unwrap());
    let (mut ws6, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(next_json(&mut ws6).await["type"], "hello");
    let (st, _) = http(port, "POST", "/api/v1/auth/logout", Some(&t2), None);
    assert_eq!(st, 204);
    assert_eq!(close_code(&mut ws6).await, Some(4003));
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("event in time")
            .expect("open")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(f)))) => return Some(f.code.into()),
            Some(Ok(Message::Close(None))) | None => return None,
            Some(Ok(_)) => continue,
            Some(Err(_)) => return None,
        }
    }
}

/// Raw GET: status, lower-cased head, body.
fn get_raw(port: u16, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn web_dir_is_integrity_checked_hashed_and_served() {
    use sha2::{Digest, Sha256, Sha384};
    let web = tempfile::tempdir().unwrap();
    std::fs::create_dir(web.path().join("assets")).unwrap();
    let js = b"document.title = 'Ting';";
    std::fs::write(web.path().join("assets/app-1.js"), js).unwrap();
    let page = |integrity: &str| {
        format!(
            "<!doctype html><script type=\"module\" crossorigin src=\"/assets/app-1.js\" integrity=\"{integrity}\"></script>"
        )
    };

    // A page whose integrity does not match its script is refused before the server listens.
    std::fs::write(web.path().join("index.html"), page("sha384-AAAA")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = ting()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .arg("--web-dir")
        .arg(web.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("integrity") && err.contains("app-1.js"),
        "{err}"
    );

    let sri = format!("sha384-{}", b64(&Sha384::digest(js)));
    let index = page(&sri);
    std::fs::write(web.path().join("index.html"), &index).unwrap();
    let s = Server::start(data.path(), &["--web-dir", web.path().to_str().unwrap()]);

    // The published hash is recomputable from the files alone.
    let (status, info) = s.request("GET", "/api/v1/web-bundle", None, None);
    assert_eq!(status, 200);
    let mut h = Sha256::new();
    for (path, bytes) in [
        ("assets/app-1.js", &js[..]),
        ("index.html", index.as_bytes()),
    ] {
        h.update(path.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(Sha256::digest(bytes));
    }
    let expected: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(info["sha256"], expected.as_str());
    assert_eq!(info["source"], "directory");
    assert_eq!(info["files"].as_array().unwrap().len(), 2);

    // App routes get the page (never cached); assets are immutable; API misses stay JSON.
    for path in ["/", "/setup", "/rooms/abc"] {
        let (status, head, body) = get_raw(s.port, path);
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("content-type: text/html"), "{path}: {head}");
        assert!(head.contains("cache-control: no-store"), "{path}: {head}");
        assert!(head.contains("content-security-policy: default-src 'self'"));
        assert_eq!(body, index);
    }
    let (status, head, body) = get_raw(s.port, "/assets/app-1.js");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/javascript"));
    assert!(head.contains("immutable"), "{head}");
    assert_eq!(body.as_bytes(), js);
    for path in ["/assets/missing.js", "/favicon.ico", "/api/v1/nothing"] {
        let (status, _, body) = get_raw(s.port, path);
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("\"code\":\"not_found\""), "{path}: {body}");
    }
}
