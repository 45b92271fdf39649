//! A native Ting member driven over stdin/stdout, so a test (e.g. Node driving a wasm member
//! through `ting-web`) can run a native member against a browser member.
//!
//! Run: `cargo run -p ting-e2ee --example interop_peer`
//!
//! # Protocol
//!
//! One JSON object per line in, one JSON object per line out, strictly request/response.
//! All binary values are lower-case **hex** strings. Every request has `"cmd"`; every response
//! has `"ok": true` plus the fields listed, or `"ok": false, "error": "<text>",
//! "fault": "peer" | "misuse" | "internal"`. Commits created by `add`, `remove`, `remove_user`,
//! `self_update` and `commit_proposals` are merged immediately (the test plays the delivery
//! service and accepts them) unless the request says `"merge": false`; then use
//! `merge_pending` / `clear_pending`.
//!
//! Ting requires every MLS member to carry a device certificate from its user's master
//! identity key, so `init` also creates the user's identity on this (first) device and
//! certifies it, unless it says `"certify": false`; such a client can make no key packages or
//! groups until `create_identity`. A state saved after certification loads certified.
//!
//! | cmd | request fields | response fields |
//! |---|---|---|
//! | `init` | `user_id`, (`device_id`, default `<user_id>/native`; `now_ms`; `certify`, default true) | `device_key`, `identity_key` (null if not certified) |
//! | `create_identity` | (`device_id`, `now_ms`) | `identity_key`, `statement`, `certificate` (to publish in the key log) |
//! | `identity` | | `identity_key`, `certificate` (null before certification), `has_master_key` |
//! | `key_package` | (`count`, default 1) | `key_packages: [hex]` |
//! | `last_resort_key_package` | | `key_package` |
//! | `create_group` | `group_id` | |
//! | `add` | `group_id`, `key_packages: [hex]`, (`merge`) | `commit`, `welcome`, `epoch` (new epoch if merged) |
//! | `remove` | `group_id`, `leaf_indices: [u32]`, (`merge`) | `commit`, `epoch` |
//! | `remove_user` | `group_id`, `user_id`, (`merge`) | `commit`, `epoch` |
//! | `self_update` | `group_id`, (`merge`) | `commit`, `epoch` |
//! | `commit_proposals` | `group_id`, (`merge`) | `commit`, `welcome`, `epoch` |
//! | `merge_pending` | `group_id`, (`now_ms`) | `epoch` |
//! | `clear_pending` | `group_id` | `epoch` |
//! | `leave` | `group_id` | `proposal` |
//! | `join` | `welcome` | `group_id`, `epoch`, `added_by`, `members`, `alerts` |
//! | `encrypt` | `group_id`, `text` | `ciphertext` |
//! | `decrypt` | `group_id`, `ciphertext`, (`now_ms`) | `kind`: `"message"` with `text` (or `body` JSON for non-text), `sender`, `epoch`; `"commit"` with `epoch`, `added`, `removed`, `removed_self`, `alerts`; `"proposal"`; `"own"` |
//! | `epoch` | `group_id` | `epoch` |
//! | `members` | `group_id` | `members: [{leaf_index, user_id, device_key, device_id, identity_key}]` |
//! | `safety_number` | `group_id`, `user_id` | `digits`, `qr` |
//! | `sframe_key_fingerprint` | `group_id` | `fingerprint`, `epoch` |
//! | `media_epoch` | `group_id` | `media_epoch` (secret! for handing to a worker in tests only) |
//! | `encrypt_frame` | `group_id`, `payload`, (`metadata`, `stream`) | `frame` |
//! | `decrypt_frame` | `group_id`, `frame`, (`metadata`, `now_ms`) | `payload`, `sender_leaf`, `epoch` |
//! | `save` | `storage_key` | `blob` |
//! | `load` | `storage_key`, `blob` | `user_id`, `device_key`, `identity_key` |
//! | `quit` | | (exits) |
//!
//! Example session:
//!
//! ```text
//! > {"cmd":"init","user_id":"alice"}
//! < {"ok":true,"device_key":"5a1f…","identity_key":"c04e…"}
//! > {"cmd":"create_group","group_id":"726f6f6d"}
//! < {"ok":true}
//! > {"cmd":"add","group_id":"726f6f6d","key_packages":["0001000501…"]}
//! < {"ok":true,"commit":"0001000201…","welcome":"0001000301…","epoch":1}
//! > {"cmd":"encrypt","group_id":"726f6f6d","text":"hi"}
//! < {"ok":true,"ciphertext":"0001000201…"}
//! ```

use std::io::{BufRead, Write};

use serde_json::{Value, json};
use ting_e2ee::{
    Body, Client, ClientConfig, CommitBundle, Envelope, Error, Fault, GroupId, IdentityAlert,
    IdentityKey, Member, Received, StorageKey, hex,
};

struct Peer {
    client: Option<Client>,
}

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut peer = Peer { client: None };
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<Value>(&line) {
            Ok(req) if req["cmd"] == "quit" => break,
            Ok(req) => match peer.handle(&req) {
                Ok(Ok(mut v)) => {
                    v["ok"] = json!(true);
                    v
                }
                Ok(Err(e)) => error_json(&e),
                Err(msg) => json!({"ok": false, "error": msg, "fault": "misuse"}),
            },
            Err(e) => json!({"ok": false, "error": format!("bad JSON: {e}"), "fault": "misuse"}),
        };
        if writeln!(stdout, "{response}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
}

fn error_json(e: &Error) -> Value {
    let fault = match e.fault() {
        Fault::Peer => "peer",
        Fault::Misuse => "misuse",
        _ => "internal",
    };
    json!({"ok": false, "error": e.to_string(), "fault": fault})
}

fn s<'a>(req: &'a Value, field: &str) -> Result<&'a str, String> {
    req[field]
        .as_str()
        .ok_or_else(|| format!("missing string field `{field}`"))
}

fn bytes(req: &Value, field: &str) -> Result<Vec<u8>, String> {
    hex::decode(s(req, field)?).ok_or_else(|| format!("field `{field}` is not hex"))
}

fn opt_bytes(req: &Value, field: &str) -> Result<Vec<u8>, String> {
    if req[field].is_null() {
        Ok(Vec::new())
    } else {
        bytes(req, field)
    }
}

fn gid(req: &Value) -> Result<GroupId, String> {
    GroupId::new(bytes(req, "group_id")?).map_err(|e| e.to_string())
}

/// The device id to certify: `device_id` if given, else `<user_id>/native`.
fn device_id(req: &Value, user: &str) -> Result<String, String> {
    if req["device_id"].is_null() {
        Ok(format!("{user}/native"))
    } else {
        Ok(s(req, "device_id")?.to_owned())
    }
}

fn now(req: &Value) -> u64 {
    req["now_ms"].as_u64().unwrap_or(0)
}

fn member_json(m: &Member) -> Value {
    json!({
        "leaf_index": m.leaf_index,
        "user_id": m.user_id,
        "device_key": m.device_key.to_hex(),
        "device_id": m.device_id,
        "identity_key": m.identity_key.to_hex(),
    })
}

impl Peer {
    fn client(&mut self) -> Result<&mut Client, String> {
        self.client
            .as_mut()
            .ok_or_else(|| "send `init` first".to_owned())
    }

    /// Outer error: malformed request; inner: a ting-e2ee error.
    fn handle(&mut self, req: &Value) -> Result<Result<Value, Error>, String> {
        let cmd = s(req, "cmd")?;
        if cmd == "init" {
            let user = s(req, "user_id")?;
            let device_id = device_id(req, user)?;
            let certify = req["certify"].as_bool().unwrap_or(true);
            return Ok(
                Client::new(user, ClientConfig::default()).and_then(|mut c| {
                    if certify {
                        c.create_identity(device_id.as_bytes(), now(req))?;
                    }
                    let v = json!({
                        "device_key": c.device_key().to_hex(),
                        "identity_key": c.identity_key().map(|k| k.to_hex()),
                    });
                    self.client = Some(c);
                    Ok(v)
                }),
            );
        }
        if cmd == "load" {
            let key =
                StorageKey::from_slice(&bytes(req, "storage_key")?).map_err(|e| e.to_string())?;
            return Ok(Client::load(&bytes(req, "blob")?, &key).map(|c| {
                let v = json!({
                    "user_id": c.user_id(),
                    "device_key": c.device_key().to_hex(),
                    "identity_key": c.identity_key().map(|k| k.to_hex()),
                });
                self.client = Some(c);
                v
            }));
        }
        let merge = req["merge"].as_bool().unwrap_or(true);
        let c = self.client()?;
        Ok(match cmd {
            "create_identity" => {
                let device_id = device_id(req, c.user_id())?;
                c.create_identity(device_id.as_bytes(), now(req)).map(|new| {
                    json!({
                        "identity_key": IdentityKey::from_master(&new.statement.master_key).to_hex(),
                        "statement": hex::encode(&new.statement.encode()),
                        "certificate": hex::encode(&new.certificate.encode()),
                    })
                })
            }
            "identity" => Ok(json!({
                "identity_key": c.identity_key().map(|k| k.to_hex()),
                "certificate": c.certificate().map(|cert| hex::encode(&cert.encode())),
                "has_master_key": c.has_master_key(),
            })),
            "key_package" => {
                let n = req["count"].as_u64().unwrap_or(1) as usize;
                c.key_packages(n).map(|kps| {
                    json!({"key_packages": kps.iter().map(|k| hex::encode(k)).collect::<Vec<_>>()})
                })
            }
            "last_resort_key_package" => c
                .last_resort_key_package()
                .map(|kp| json!({"key_package": hex::encode(&kp)})),
            "create_group" => c.create_group(&gid(req)?).map(|()| json!({})),
            "add" => {
                let kps = req["key_packages"]
                    .as_array()
                    .ok_or("missing `key_packages`")?
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .and_then(hex::decode)
                            .ok_or("key package not hex")
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let g = gid(req)?;
                commit(c, &g, merge, |c| c.add_members(&g, &kps))
            }
            "remove" => {
                let leaves = req["leaf_indices"]
                    .as_array()
                    .ok_or("missing `leaf_indices`")?
                    .iter()
                    .map(|v| {
                        v.as_u64()
                            .map(|x| x as u32)
                            .ok_or("leaf index not a number")
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let g = gid(req)?;
                commit(c, &g, merge, |c| c.remove_members(&g, &leaves))
            }
            "remove_user" => {
                let g = gid(req)?;
                let user = s(req, "user_id")?.to_owned();
                commit(c, &g, merge, |c| c.remove_user(&g, &user))
            }
            "self_update" => {
                let g = gid(req)?;
                commit(c, &g, merge, |c| c.self_update(&g))
            }
            "commit_proposals" => {
                let g = gid(req)?;
                commit(c, &g, merge, |c| c.commit_pending_proposals(&g))
            }
            "merge_pending" => {
                let g = gid(req)?;
                c.merge_pending_commit(&g, now(req))
                    .and_then(|_| c.epoch(&g))
                    .map(|e| json!({"epoch": e}))
            }
            "clear_pending" => {
                let g = gid(req)?;
                c.clear_pending_commit(&g)
                    .and_then(|()| c.epoch(&g))
                    .map(|e| json!({"epoch": e}))
            }
            "leave" => c
                .leave_group(&gid(req)?)
                .map(|p| json!({"proposal": hex::encode(&p)})),
            "join" => c.join(&bytes(req, "welcome")?).map(|j| {
                json!({
                    "group_id": hex::encode(j.group_id.as_bytes()),
                    "epoch": j.epoch,
                    "added_by": member_json(&j.added_by),
                    "members": j.members.iter().map(member_json).collect::<Vec<_>>(),
                    "alerts": j.alerts.iter().map(alert_json).collect::<Vec<_>>(),
                })
            }),
            "encrypt" => {
                let env = Envelope::text(s(req, "text")?).map_err(|e| e.to_string())?;
                c.encrypt_message(&gid(req)?, &env)
                    .map(|ct| json!({"ciphertext": hex::encode(&ct)}))
            }
            "decrypt" | "handle" => c
                .handle_message(&gid(req)?, &bytes(req, "ciphertext")?, now(req))
                .map(|r| received_json(&r)),
            "epoch" => c.epoch(&gid(req)?).map(|e| json!({"epoch": e})),
            "members" => c
                .members(&gid(req)?)
                .map(|m| json!({"members": m.iter().map(member_json).collect::<Vec<_>>()})),
            "safety_number" => c
                .safety_number(&gid(req)?, s(req, "user_id")?)
                .map(|n| json!({"digits": n.display(), "qr": hex::encode(&n.qr_payload())})),
            "sframe_key_fingerprint" => {
                let g = gid(req)?;
                c.media_epoch(&g).map(|e| {
                    json!({"fingerprint": hex::encode(&e.key_fingerprint()), "epoch": e.epoch()})
                })
            }
            "media_epoch" => c
                .media_epoch(&gid(req)?)
                .map(|e| json!({"media_epoch": hex::encode(&e.to_bytes())})),
            "encrypt_frame" => {
                let stream = req["stream"].as_u64().unwrap_or(0) as u8;
                let (meta, payload) = (opt_bytes(req, "metadata")?, bytes(req, "payload")?);
                c.media_keys(&gid(req)?)
                    .and_then(|m| m.encrypt_frame(stream, &meta, &payload))
                    .map(|f| json!({"frame": hex::encode(&f)}))
            }
            "decrypt_frame" => {
                let (meta, frame) = (opt_bytes(req, "metadata")?, bytes(req, "frame")?);
                c.media_keys(&gid(req)?)
                    .and_then(|m| m.decrypt_frame(now(req), &meta, &frame))
                    .map(|f| {
                        json!({"payload": hex::encode(&f.payload), "sender_leaf": f.sender_leaf, "epoch": f.epoch})
                    })
            }
            "save" => {
                let key = StorageKey::from_slice(&bytes(req, "storage_key")?)
                    .map_err(|e| e.to_string())?;
                c.save(&key).map(|b| json!({"blob": hex::encode(&b)}))
            }
            other => return Err(format!("unknown cmd `{other}`")),
        })
    }
}

fn commit(
    c: &mut Client,
    g: &GroupId,
    merge: bool,
    op: impl FnOnce(&mut Client) -> Result<CommitBundle, Error>,
) -> Result<Value, Error> {
    let bundle = op(c)?;
    if merge {
        c.merge_pending_commit(g, 0)?;
    }
    Ok(json!({
        "commit": hex::encode(&bundle.commit),
        "welcome": bundle.welcome.as_deref().map(hex::encode),
        "epoch": c.epoch(g)?,
        "added": bundle.change.added.iter().map(member_json).collect::<Vec<_>>(),
        "removed": bundle.change.removed.iter().map(member_json).collect::<Vec<_>>(),
    }))
}

fn alert_json(a: &IdentityAlert) -> Value {
    match a {
        IdentityAlert::Changed {
            user_id,
            previous,
            current,
            was_verified,
        } => json!({"kind": "changed", "user_id": user_id, "previous": previous.to_hex(),
            "current": current.to_hex(), "was_verified": was_verified}),
        IdentityAlert::OwnIdentityReset { current } => {
            json!({"kind": "own_identity_reset", "current": current.to_hex()})
        }
    }
}

fn received_json(r: &Received) -> Value {
    match r {
        Received::Message(m) => {
            let mut v = json!({"kind": "message", "sender": member_json(&m.sender), "epoch": m.epoch,
                "message_id": m.envelope.id.to_hex()});
            match &m.envelope.body {
                Body::Text { body, .. } => v["text"] = json!(body),
                other => v["body"] = json!(other),
            }
            v
        }
        Received::Commit(c) => json!({
            "kind": "commit",
            "epoch": c.epoch,
            "committer": member_json(&c.committer),
            "added": c.change.added.iter().map(member_json).collect::<Vec<_>>(),
            "removed": c.change.removed.iter().map(member_json).collect::<Vec<_>>(),
            "removed_self": c.removed_self,
            "alerts": c.alerts.iter().map(alert_json).collect::<Vec<_>>(),
        }),
        Received::Proposal(p) => {
            json!({"kind": "proposal", "sender": member_json(&p.sender), "proposal": format!("{:?}", p.kind)})
        }
        _ => json!({"kind": "own"}),
    }
}
