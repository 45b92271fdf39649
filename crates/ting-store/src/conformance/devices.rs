//! Device cases.

use std::sync::Arc;

use ting_proto::{DeviceId, UserId};
use tokio::task::JoinSet;

use super::{T0, new_device, new_user, session, user_with_device};
use crate::{Error, Result, Store};

pub(super) async fn round_trip(store: &dyn Store) -> Result<()> {
    let erin = store.create_user(new_user("erin")).await?;
    let other = store.create_user(new_user("frank")).await?;
    // Created out of order: listing is by creation time.
    let laptop = store.create_device(new_device(erin.id, 2, T0 + 20)).await?;
    let phone = store.create_device(new_device(erin.id, 1, T0 + 10)).await?;
    let franks = store.create_device(new_device(other.id, 1, T0)).await?;
    assert_eq!(phone.last_seen_at, None);
    assert_eq!(phone.revoked_at, None);
    assert_eq!(phone.signature_key, vec![1; 32]);

    assert_eq!(store.device_by_id(phone.id).await?.as_ref(), Some(&phone));
    assert_eq!(store.device_by_id(DeviceId::random()).await?, None);
    assert_eq!(
        store.devices_for_user(erin.id, false).await?,
        [phone.clone(), laptop.clone()]
    );
    assert_eq!(store.devices_for_user(other.id, true).await?, [franks]);
    assert!(
        store
            .devices_for_user(UserId::random(), true)
            .await?
            .is_empty()
    );
    assert_eq!(
        store.active_device_by_key(erin.id, &[2; 32]).await?,
        Some(laptop.clone())
    );
    assert_eq!(store.active_device_by_key(erin.id, &[3; 32]).await?, None);
    assert_eq!(store.active_device_by_key(other.id, &[2; 32]).await?, None);

    store.touch_device(phone.id, T0 + 100).await?;
    store.touch_device(phone.id, T0 + 200).await?;
    let touched = store.device_by_id(phone.id).await?.expect("phone exists");
    assert_eq!(touched.last_seen_at, Some(T0 + 200));
    match store.touch_device(DeviceId::random(), T0).await {
        Err(Error::NotFound("device")) => {}
        other => panic!("touching an unknown device: expected NotFound, got {other:?}"),
    }

    match store
        .create_device(new_device(UserId::random(), 9, T0))
        .await
    {
        Err(Error::NotFound("user")) => {}
        other => panic!("device of an unknown user: expected NotFound(\"user\"), got {other:?}"),
    }
    assert_eq!(store.devices_for_user(erin.id, true).await?.len(), 2);
    Ok(())
}

pub(super) async fn active_key_unique(store: &dyn Store) -> Result<()> {
    let gina = store.create_user(new_user("gina")).await?;
    let hank = store.create_user(new_user("hank")).await?;
    let first = store.create_device(new_device(gina.id, 7, T0)).await?;
    match store.create_device(new_device(gina.id, 7, T0 + 1)).await {
        Err(Error::Conflict(_)) => {}
        other => panic!("second active device with one key: expected Conflict, got {other:?}"),
    }
    // Another user may hold the same key (their credential is a different identity).
    store.create_device(new_device(hank.id, 7, T0)).await?;
    // A reused device id is a conflict too, not an internal error.
    let mut same_id = new_device(gina.id, 8, T0);
    same_id.id = first.id;
    assert!(matches!(
        store.create_device(same_id).await,
        Err(Error::Conflict(_))
    ));

    assert!(store.revoke_device(first.id, T0 + 5).await?);
    let again = store.create_device(new_device(gina.id, 7, T0 + 6)).await?;
    assert_eq!(
        store.active_device_by_key(gina.id, &[7; 32]).await?,
        Some(again)
    );
    assert_eq!(store.devices_for_user(gina.id, true).await?.len(), 2);
    Ok(())
}

pub(super) async fn revoke(store: &dyn Store) -> Result<()> {
    let (ivy, doomed) = user_with_device(store, "ivy").await?;
    let kept = store.create_device(new_device(ivy, 2, T0 + 1)).await?;
    store
        .create_session(session(ivy, doomed, 1, T0 + 1000))
        .await?;
    store
        .create_session(session(ivy, doomed, 2, T0 + 1000))
        .await?;
    store
        .create_session(session(ivy, kept.id, 3, T0 + 1000))
        .await?;
    store
        .add_key_packages(doomed, vec![vec![1], vec![2]], Some(vec![3]), T0)
        .await?;
    store
        .add_key_packages(kept.id, vec![vec![4]], Some(vec![5]), T0)
        .await?;

    assert!(store.revoke_device(doomed, T0 + 50).await?);
    let revoked = store
        .device_by_id(doomed)
        .await?
        .expect("revoked devices are kept");
    assert_eq!(revoked.revoked_at, Some(T0 + 50));
    assert_eq!(store.session_by_token_hash(&[1; 32]).await?, None);
    assert_eq!(store.session_by_token_hash(&[2; 32]).await?, None);
    assert_eq!(store.count_key_packages(doomed).await?, (0, false));
    assert_eq!(store.active_device_by_key(ivy, &[1; 32]).await?, None);
    assert_eq!(
        store.devices_for_user(ivy, false).await?,
        std::slice::from_ref(&kept)
    );
    assert_eq!(
        store.devices_for_user(ivy, true).await?,
        [revoked.clone(), kept.clone()]
    );
    // The other device is untouched.
    assert!(store.session_by_token_hash(&[3; 32]).await?.is_some());
    assert_eq!(store.count_key_packages(kept.id).await?, (1, true));

    assert!(!store.revoke_device(doomed, T0 + 60).await?);
    let still = store.device_by_id(doomed).await?.expect("kept");
    assert_eq!(
        still.revoked_at,
        Some(T0 + 50),
        "a second revocation changes nothing"
    );
    match store.revoke_device(DeviceId::random(), T0).await {
        Err(Error::NotFound("device")) => {}
        other => panic!("revoking an unknown device: expected NotFound, got {other:?}"),
    }
    Ok(())
}

pub(super) async fn revoke_concurrent(store: Arc<dyn Store>) -> Result<()> {
    let (jack, device) = user_with_device(&*store, "jack").await?;
    store
        .add_key_packages(device, vec![vec![1]; 5], Some(vec![2]), T0)
        .await?;
    let mut tasks = JoinSet::new();
    for i in 0..4 {
        let store = Arc::clone(&store);
        tasks.spawn(async move { store.revoke_device(device, T0 + i).await });
    }
    let mut revoked = 0;
    while let Some(joined) = tasks.join_next().await {
        revoked += usize::from(joined.expect("task panicked")?);
    }
    assert_eq!(revoked, 1, "exactly one concurrent revocation returns true");
    assert_eq!(store.count_key_packages(device).await?, (0, false));
    assert!(store.devices_for_user(jack, false).await?.is_empty());
    Ok(())
}

/// Uploads and logins racing a revocation: whatever order they run in, nothing of the
/// device's survives it.
pub(super) async fn revoke_races_writes(store: Arc<dyn Store>) -> Result<()> {
    let (kim, device) = user_with_device(&*store, "kim").await?;
    let mut tasks = JoinSet::new();
    for i in 0..12u8 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let outcome = match i {
                6 => store.revoke_device(device, T0 + 1).await.map(drop),
                i if i % 2 == 0 => store
                    .add_key_packages(device, vec![vec![i]; 3], Some(vec![i]), T0)
                    .await
                    .map(drop),
                i => {
                    store
                        .create_session(session(kim, device, i, T0 + 100))
                        .await
                }
            };
            match outcome {
                // Writes after the revocation find no active device.
                Ok(()) | Err(Error::NotFound("device")) => Ok(()),
                Err(other) => Err(other),
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task panicked")?;
    }
    assert_eq!(store.count_key_packages(device).await?, (0, false));
    for i in (1..12u8).step_by(2) {
        assert_eq!(store.session_by_token_hash(&[i; 32]).await?, None);
    }
    assert_eq!(store.delete_sessions_for_user(kim).await?, 0);
    Ok(())
}
