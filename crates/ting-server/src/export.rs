//! `ting admin export-user USERNAME --out FILE` (GDPR art. 15/20, R20): every stored field
//! about one user as one JSON document. Content stays end-to-end encrypted: messages are listed
//! as metadata (room, seq, time, size), their ciphertext only with `--with-ciphertext`.
//! The password hash is included: it is stored data about the person (a one-way Argon2id hash
//! that does not reveal the password). Sessions appear as token hashes, as stored.

use serde_json::{Value, json};
use ting_store::{Store, User};

use crate::audit::{self, Entry, Event, hex, to_json};

/// Collects everything stored about `user`.
pub async fn collect(
    store: &dyn Store,
    user: &User,
    with_ciphertext: bool,
    now: i64,
) -> anyhow::Result<Value> {
    let mut devices = Vec::new();
    for d in store.devices_for_user(user.id, true).await? {
        let (one_time, last_resort) = store.count_key_packages(d.id).await?;
        devices.push(json!({
            "id": d.id, "name": d.name, "signature_key": hex(&d.signature_key),
            "created_at": d.created_at, "last_seen_at": d.last_seen_at, "revoked_at": d.revoked_at,
            "key_packages": { "one_time": one_time, "last_resort": last_resort },
        }));
    }
    let sessions: Vec<Value> = store
        .sessions_for_user(user.id)
        .await?
        .iter()
        .map(|s| {
            json!({ "token_hash": hex(&s.token_hash), "device_id": s.device_id,
                    "created_at": s.created_at, "expires_at": s.expires_at })
        })
        .collect();
    let mut memberships = Vec::new();
    for m in store.memberships_of_user(user.id).await? {
        let room = store.room(m.room_id).await?;
        let cursor = store.cursor(m.device_id, m.room_id).await?;
        memberships.push(json!({
            "room_id": m.room_id, "device_id": m.device_id, "added_seq": m.added_seq,
            "removed_seq": m.removed_seq, "cursor": cursor,
            "room_created_by_user": room.as_ref().is_some_and(|r| r.created_by == user.id),
            "room_retention_secs": room.and_then(|r| r.retention_secs),
        }));
    }
    let messages: Vec<Value> = store
        .messages_sent_by(user.id, with_ciphertext)
        .await?
        .iter()
        .map(|m| {
            json!({ "room_id": m.room_id, "seq": m.seq, "device_id": m.sender_device,
                    "kind": m.kind, "epoch": m.epoch, "created_at": m.created_at,
                    "expires_at": m.expires_at, "size": m.size,
                    "ciphertext_hex": m.payload.as_deref().map(hex) })
        })
        .collect();
    let blobs: Vec<Value> = store
        .blobs_uploaded_by(user.id)
        .await?
        .iter()
        .map(|b| {
            json!({ "id": b.id, "room_id": b.room_id, "device_id": b.uploader_device,
                    "size": b.size, "received": b.received, "complete": b.complete,
                    "created_at": b.created_at, "expires_at": b.expires_at })
        })
        .collect();
    let audit: Vec<Value> = store
        .audit_for_user(user.id)
        .await?
        .iter()
        .map(to_json)
        .collect();
    let key_log: Vec<Value> = store
        .key_log_for_user(user.id)
        .await?
        .iter()
        .map(|r| {
            json!({ "index": r.index, "kind": r.kind.as_str(), "device_id": r.device_id,
                    "created_at": r.created_at, "record_hex": hex(&r.record) })
        })
        .collect();
    let policies: Vec<Value> = store
        .policy_history()
        .await?
        .iter()
        .filter(|p| p.set_by == Some(user.id))
        .map(|p| json!({ "revision": p.revision, "set_at": p.set_at }))
        .collect();
    Ok(json!({
        "format": "ting-user-export-v1",
        "exported_at": now,
        "note": "Every field the server stores about this user. Message and file content is end-to-end encrypted; export it with your client.",
        "account": { "id": user.id, "username": user.username, "password_hash": user.password_hash,
                     "is_admin": user.is_admin, "created_at": user.created_at },
        "devices": devices,
        "sessions": sessions,
        "room_memberships": memberships,
        "messages_sent": messages,
        "blobs_uploaded": blobs,
        "key_log_records": key_log,
        "policies_set": policies,
        "audit_records": audit,
    }))
}

/// Writes the export to `path` and audits it.
pub async fn export_user(
    store: &dyn Store,
    user: &User,
    with_ciphertext: bool,
    path: &std::path::Path,
    now: i64,
) -> anyhow::Result<()> {
    let doc = collect(store, user, with_ciphertext, now).await?;
    std::fs::write(path, serde_json::to_string_pretty(&doc)?)?;
    audit::record(
        store,
        Entry::new(Event::UserExported, now)
            .target_user(user.id)
            .details(json!({ "with_ciphertext": with_ciphertext })),
    )
    .await?;
    Ok(())
}
