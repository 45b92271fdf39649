//! Key log, witness cosignature, device-link and server secret cases.

use std::collections::BTreeSet;
use std::sync::Arc;

use ting_proto::{DeviceId, UserId};
use tokio::task::JoinSet;

use super::{T0, new_device, user_with_device};
use crate::{Error, KeyLogKind, NewLink, Result, Store};

pub(super) async fn key_log_round_trip(store: &dyn Store) -> Result<()> {
    assert_eq!(store.key_log_size().await?, 0);
    assert!(store.key_log_range(0, 10).await?.is_empty());
    let (gus, phone) = user_with_device(store, "gus").await?;
    let (hal, _) = user_with_device(store, "hal").await?;
    let kinds = [
        (gus, KeyLogKind::Identity, None),
        (hal, KeyLogKind::Identity, None),
        (gus, KeyLogKind::Device, Some(phone)),
        (gus, KeyLogKind::Revocation, Some(phone)),
    ];
    for (i, &(user, kind, device)) in kinds.iter().enumerate() {
        let index = store
            .append_key_log(user, kind, device, &[i as u8; 3], T0 + i as i64)
            .await?;
        assert_eq!(index, i as u64, "indexes start at 0 and are dense");
    }
    assert_eq!(store.key_log_size().await?, 4);

    let all = store.key_log_range(0, 100).await?;
    assert_eq!(all.len(), 4);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.index, i as u64);
        assert_eq!(r.record, vec![i as u8; 3]);
        assert_eq!(r.created_at, T0 + i as i64);
        assert_eq!((r.user_id, r.kind, r.device_id), kinds[i]);
    }
    let middle = store.key_log_range(1, 3).await?;
    assert_eq!(
        middle.iter().map(|r| r.index).collect::<Vec<_>>(),
        [1, 2],
        "the end is exclusive"
    );
    assert!(store.key_log_range(4, 9).await?.is_empty());
    assert!(store.key_log_range(3, 1).await?.is_empty());
    assert!(
        store
            .key_log_range(u64::MAX - 1, u64::MAX)
            .await?
            .is_empty()
    );

    let of_gus = store.key_log_for_user(gus).await?;
    assert_eq!(
        of_gus.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 2, 3]
    );
    assert_eq!(of_gus[0], all[0]);
    assert!(store.key_log_for_user(UserId::random()).await?.is_empty());

    match store
        .append_key_log(UserId::random(), KeyLogKind::Identity, None, &[9], T0)
        .await
    {
        Err(Error::NotFound("user")) => {}
        other => panic!("appending for an unknown user: expected NotFound, got {other:?}"),
    }
    match store
        .append_key_log(gus, KeyLogKind::Device, Some(DeviceId::random()), &[9], T0)
        .await
    {
        Err(Error::NotFound("user")) => {}
        other => panic!("appending for an unknown device: expected NotFound, got {other:?}"),
    }
    assert_eq!(
        store.key_log_size().await?,
        4,
        "refused appends leave no gap"
    );
    let next = store
        .append_key_log(hal, KeyLogKind::Identity, None, &[7], T0)
        .await?;
    assert_eq!(next, 4);
    Ok(())
}

pub(super) async fn key_log_concurrent(store: Arc<dyn Store>) -> Result<()> {
    const TASKS: u64 = 8;
    const EACH: u64 = 5;
    let (user, _) = user_with_device(&*store, "ida").await?;
    let mut tasks = JoinSet::new();
    for t in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let mut got = Vec::new();
            for i in 0..EACH {
                let record = [t as u8, i as u8];
                let index = store
                    .append_key_log(user, KeyLogKind::Identity, None, &record, T0)
                    .await?;
                got.push((index, record));
            }
            Ok::<_, Error>(got)
        });
    }
    let mut indexes = BTreeSet::new();
    let mut by_index = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        for (index, record) in joined.expect("task panicked")? {
            assert!(indexes.insert(index), "index {index} handed out twice");
            by_index.push((index, record));
        }
    }
    let total = TASKS * EACH;
    assert_eq!(
        indexes.into_iter().collect::<Vec<_>>(),
        (0..total).collect::<Vec<_>>(),
        "concurrent appends leave no gap"
    );
    assert_eq!(store.key_log_size().await?, total);
    by_index.sort();
    let stored = store.key_log_range(0, total).await?;
    for ((index, record), r) in by_index.iter().zip(&stored) {
        assert_eq!((r.index, r.record.as_slice()), (*index, &record[..]));
    }
    Ok(())
}

pub(super) async fn cosignatures(store: &dyn Store) -> Result<()> {
    assert!(store.key_log_cosignatures(3).await?.is_empty());
    assert!(store.put_key_log_cosignature("w1", 3, "n1@3", T0).await?);
    assert!(store.put_key_log_cosignature("w0", 3, "n0@3", T0).await?);
    assert_eq!(store.key_log_cosignatures(3).await?, ["n0@3", "n1@3"]);
    assert!(
        !store.put_key_log_cosignature("w1", 2, "n1@2", T0).await?,
        "an older cosignature does not replace a newer one"
    );
    assert!(store.put_key_log_cosignature("w1", 3, "n1@3'", T0).await?);
    assert_eq!(store.key_log_cosignatures(3).await?, ["n0@3", "n1@3'"]);
    assert!(store.put_key_log_cosignature("w1", 5, "n1@5", T0).await?);
    assert_eq!(store.key_log_cosignatures(3).await?, ["n0@3"]);
    assert_eq!(store.key_log_cosignatures(5).await?, ["n1@5"]);
    assert!(store.key_log_cosignatures(2).await?.is_empty());
    Ok(())
}

fn new_link(id: &str, (user, device): (UserId, DeviceId), expires_at: i64) -> NewLink {
    NewLink {
        id: id.to_owned(),
        user_id: user,
        device_id: device,
        request: b"request".to_vec(),
        created_at: T0,
        expires_at,
    }
}

pub(super) async fn link_round_trip(store: &dyn Store) -> Result<()> {
    let jo = user_with_device(store, "jo").await?;
    store.create_link(new_link("aa", jo, T0 + 600)).await?;
    let link = store.link("aa").await?.expect("stored");
    assert_eq!(
        (link.user_id, link.device_id, link.request.as_slice()),
        (jo.0, jo.1, &b"request"[..])
    );
    assert_eq!(
        (link.responded, link.created_at, link.expires_at),
        (false, T0, T0 + 600)
    );
    assert_eq!(store.link("bb").await?, None);

    match store.create_link(new_link("aa", jo, T0 + 600)).await {
        Err(Error::Conflict("link_id")) => {}
        other => panic!("a second link with the same id: expected Conflict, got {other:?}"),
    }
    match store
        .create_link(new_link("cc", (jo.0, DeviceId::random()), T0 + 600))
        .await
    {
        Err(Error::NotFound("device")) => {}
        other => panic!("a link of an unknown device: expected NotFound, got {other:?}"),
    }
    assert_eq!(store.link("cc").await?, None);

    assert_eq!(
        store.take_link_response("aa", T0).await?,
        None,
        "nothing to take before a response"
    );
    assert!(store.link("aa").await?.is_some(), "waiting keeps the row");
    assert!(store.set_link_response("aa", b"answer", T0 + 1).await?);
    assert!(
        !store.set_link_response("aa", b"other", T0 + 2).await?,
        "a second response is refused"
    );
    assert!(!store.set_link_response("zz", b"x", T0).await?);
    assert!(store.link("aa").await?.expect("still there").responded);
    assert_eq!(
        store.take_link_response("aa", T0 + 3).await?,
        Some(b"answer".to_vec())
    );
    assert_eq!(
        store.take_link_response("aa", T0 + 3).await?,
        None,
        "taken once"
    );
    assert_eq!(
        store.link("aa").await?,
        None,
        "taking deletes the rendezvous"
    );
    Ok(())
}

pub(super) async fn link_expiry(store: &dyn Store) -> Result<()> {
    let kai = user_with_device(store, "kai").await?;
    let second = store.create_device(new_device(kai.0, 2, T0)).await?;
    store.create_link(new_link("old", kai, T0 + 600)).await?;
    store
        .create_link(new_link("new", (kai.0, second.id), T0 + 900))
        .await?;
    assert!(
        !store.set_link_response("old", b"late", T0 + 600).await?,
        "expired: no response"
    );
    assert!(store.set_link_response("new", b"answer", T0 + 599).await?);
    assert_eq!(
        store.take_link_response("new", T0 + 900).await?,
        None,
        "an expired response is not handed out"
    );
    assert_eq!(store.purge_expired_links(T0 + 599).await?, 0);
    assert_eq!(store.purge_expired_links(T0 + 600).await?, 1);
    assert_eq!(store.link("old").await?, None);
    assert!(store.link("new").await?.is_some());
    assert_eq!(store.purge_expired_links(T0 + 10_000).await?, 1);
    assert_eq!(store.link("new").await?, None);
    Ok(())
}

pub(super) async fn link_response_concurrent(store: Arc<dyn Store>) -> Result<()> {
    let lu = user_with_device(&*store, "lu").await?;
    store.create_link(new_link("race", lu, T0 + 600)).await?;
    let mut tasks = JoinSet::new();
    for i in 0..8u8 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let stored = store.set_link_response("race", &[i], T0).await?;
            Ok::<_, Error>(stored.then_some(i))
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        winners.extend(joined.expect("task panicked")?);
    }
    assert_eq!(winners.len(), 1, "exactly one response is stored");
    assert_eq!(
        store.take_link_response("race", T0).await?,
        Some(vec![winners[0]])
    );
    Ok(())
}

pub(super) async fn server_secret(store: Arc<dyn Store>) -> Result<()> {
    let first = store.server_secret("a", &[1; 32], T0).await?;
    assert_eq!(first, vec![1; 32]);
    assert_eq!(store.server_secret("a", &[2; 32], T0).await?, first);
    assert_eq!(store.server_secret("b", &[3; 32], T0).await?, vec![3; 32]);
    let mut tasks = JoinSet::new();
    for i in 0..8u8 {
        let store = Arc::clone(&store);
        tasks.spawn(async move { store.server_secret("c", &[i; 32], T0).await });
    }
    let mut seen = BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        seen.insert(joined.expect("task panicked")?);
    }
    assert_eq!(seen.len(), 1, "every caller gets the same secret");
    Ok(())
}

pub(super) async fn recovery_backup(store: &dyn Store) -> Result<()> {
    let (ivy, _) = user_with_device(store, "ivy").await?;
    let (jon, _) = user_with_device(store, "jon").await?;
    assert_eq!(store.recovery_backup(ivy).await?, None);
    store.put_recovery_backup(ivy, &[1; 60], T0).await?;
    store.put_recovery_backup(jon, &[2; 60], T0).await?;
    store.put_recovery_backup(ivy, &[3; 60], T0 + 1).await?;
    assert_eq!(
        store.recovery_backup(ivy).await?,
        Some(vec![3; 60]),
        "replaced"
    );
    assert_eq!(store.recovery_backup(jon).await?, Some(vec![2; 60]));
    assert!(matches!(
        store
            .put_recovery_backup(UserId::random(), &[4; 60], T0)
            .await,
        Err(Error::NotFound("user"))
    ));
    Ok(())
}
