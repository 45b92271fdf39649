//! Policy, audit log, per-user export and data-inventory cases.

use std::sync::Arc;

use super::{T0, app, appended, new_room, session, user_with_device};
use crate::inventory;
use crate::{ChainVerifier, NewAuditRecord, Result, Store, verify_audit};

fn event(at: i64, name: &str, user: Option<String>) -> NewAuditRecord {
    NewAuditRecord {
        at,
        event: name.into(),
        actor_user: user.clone(),
        actor_device: None,
        target_user: user,
        target: Some("x".into()),
        client_net: Some("192.0.2.0/24".into()),
        details: format!("{{\"n\":\"{name}\"}}"),
    }
}

pub(super) async fn policies(store: &dyn Store) -> Result<()> {
    assert_eq!(store.current_policy().await?, None);
    let (admin, _) = user_with_device(store, "ada").await?;
    let first = store
        .set_policy("policy_version = 1\n".into(), None, T0)
        .await?;
    assert_eq!(first.revision, 1);
    let second = store
        .set_policy("policy_version = 1\n# v2\n".into(), Some(admin), T0 + 5)
        .await?;
    assert_eq!(second.revision, 2);
    assert_eq!(second.set_by, Some(admin));
    assert_eq!(store.current_policy().await?, Some(second.clone()));
    assert_eq!(store.policy_history().await?, vec![first, second]);
    Ok(())
}

pub(super) async fn audit_chain(store: &dyn Store) -> Result<()> {
    assert!(store.audit_page(0, 10).await?.is_empty());
    let (alice, _) = user_with_device(store, "alice").await?;
    let mut stored = Vec::new();
    for (i, name) in ["login", "device_added", "logout_all"].iter().enumerate() {
        let user = (i != 1).then(|| alice.to_string());
        stored.push(store.append_audit(event(T0 + i as i64, name, user)).await?);
    }
    assert_eq!(stored.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(store.audit_page(0, 10).await?, stored);
    assert_eq!(store.audit_page(1, 1).await?, stored[1..2]);
    let mut v = ChainVerifier::new(None);
    for r in &stored {
        v.check(r).expect("a stored chain verifies");
    }
    let report = verify_audit(store).await?.expect("verifies");
    assert_eq!(report.checked, 3);
    assert_eq!(report.head, stored[2].hash);
    let mine = store.audit_for_user(alice).await?;
    assert_eq!(mine.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 3]);
    Ok(())
}

pub(super) async fn audit_prune(store: &dyn Store) -> Result<()> {
    assert_eq!(store.prune_audit(T0, T0).await?, 0);
    for i in 0..5 {
        store.append_audit(event(T0 + i * 100, "e", None)).await?;
    }
    assert_eq!(store.prune_audit(T0 + 250, T0 + 1000).await?, 3);
    let anchor = store
        .audit_anchor()
        .await?
        .expect("an anchor after pruning");
    assert_eq!(anchor.seq, 3);
    assert_eq!(anchor.pruned_at, T0 + 1000);
    let left = store.audit_page(0, 10).await?;
    assert_eq!(left.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(verify_audit(store).await?.expect("verifies").checked, 2);
    // Everything pruned: the next record chains from the anchor.
    assert_eq!(store.prune_audit(T0 + 10_000, T0 + 10_000).await?, 2);
    let next = store.append_audit(event(T0 + 20_000, "e", None)).await?;
    assert_eq!(next.seq, 6);
    assert_eq!(verify_audit(store).await?.expect("verifies").checked, 1);
    Ok(())
}

pub(super) async fn audit_concurrent(store: Arc<dyn Store>) -> Result<()> {
    let mut tasks = Vec::new();
    for t in 0..4 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                store
                    .append_audit(event(T0 + i, &format!("t{t}"), None))
                    .await?;
            }
            Result::Ok(())
        }));
    }
    for task in tasks {
        task.await.expect("task")?;
    }
    let report = verify_audit(&*store).await?.expect("a linear chain");
    assert_eq!(report.checked, 40);
    Ok(())
}

pub(super) async fn subject_export(store: &dyn Store) -> Result<()> {
    let (kim, phone) = user_with_device(store, "kim").await?;
    let (lou, _) = user_with_device(store, "lou").await?;
    store
        .create_session(session(kim, phone, 7, T0 + 60))
        .await?;
    let room = new_room(store, (kim, phone), None).await?;
    appended(
        store
            .append_message(app(room, (kim, phone), 0, 1), None)
            .await?,
    );
    let sessions = store.sessions_for_user(kim).await?;
    assert_eq!(sessions.len(), 1);
    assert!(store.sessions_for_user(lou).await?.is_empty());
    let member = store.memberships_of_user(kim).await?;
    assert_eq!(member.len(), 1);
    assert_eq!(member[0].room_id, room);
    let sent = store.messages_sent_by(kim, false).await?;
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].seq, sent[0].payload.clone()), (1, None));
    assert!(sent[0].size > 0);
    let with = store.messages_sent_by(kim, true).await?;
    assert_eq!(
        with[0].payload.as_ref().map(Vec::len),
        Some(sent[0].size as usize)
    );
    assert!(store.messages_sent_by(lou, false).await?.is_empty());
    assert!(store.blobs_uploaded_by(kim).await?.is_empty());
    Ok(())
}

/// R15: every column of the migrated schema is in the inventory and vice versa.
pub(super) async fn inventory_matches_schema(store: &dyn Store) -> Result<()> {
    let live = store.schema_columns().await?;
    let declared: Vec<(String, String)> = inventory::fields()
        .into_iter()
        .map(|f| (f.table.to_owned(), f.column.to_owned()))
        .collect();
    for column in &live {
        assert!(
            declared.contains(column),
            "column {}.{} exists but is not in the data inventory",
            column.0,
            column.1
        );
    }
    for column in &declared {
        assert!(
            live.contains(column),
            "the data inventory names {}.{}, which does not exist",
            column.0,
            column.1
        );
    }
    Ok(())
}
