//! Session cases.

use ting_proto::DeviceId;

use super::{T0, new_device, session, user_with_device};
use crate::{Error, Result, Store};

pub(super) async fn round_trip(store: &dyn Store) -> Result<()> {
    let (kate, laptop) = user_with_device(store, "kate").await?;
    let (leo, leos) = user_with_device(store, "leo").await?;
    let login = session(kate, laptop, 1, T0 + 3600);
    store.create_session(login.clone()).await?;
    assert_eq!(store.session_by_token_hash(&[1; 32]).await?, Some(login));
    assert_eq!(store.session_by_token_hash(&[9; 32]).await?, None);

    match store
        .create_session(session(kate, laptop, 1, T0 + 10))
        .await
    {
        Err(Error::Conflict("session")) => {}
        other => panic!("duplicate token hash: expected Conflict(\"session\"), got {other:?}"),
    }
    for (case, bad) in [
        ("unknown device", session(kate, DeviceId::random(), 2, T0)),
        ("another user's device", session(kate, leos, 2, T0)),
    ] {
        match store.create_session(bad).await {
            Err(Error::NotFound("device")) => {}
            other => panic!("session for {case}: expected NotFound(\"device\"), got {other:?}"),
        }
    }
    let old = store.create_device(new_device(leo, 2, T0)).await?;
    assert!(store.revoke_device(old.id, T0).await?);
    match store.create_session(session(leo, old.id, 2, T0)).await {
        Err(Error::NotFound("device")) => {}
        other => panic!("session for a revoked device: expected NotFound, got {other:?}"),
    }
    assert_eq!(store.session_by_token_hash(&[2; 32]).await?, None);

    assert!(store.delete_session(&[1; 32]).await?);
    assert!(!store.delete_session(&[1; 32]).await?);
    assert_eq!(store.session_by_token_hash(&[1; 32]).await?, None);
    Ok(())
}

pub(super) async fn deletion_counts(store: &dyn Store) -> Result<()> {
    let (mia, phone) = user_with_device(store, "mia").await?;
    let (ned, neds) = user_with_device(store, "ned").await?;
    store
        .create_session(session(mia, phone, 1, T0 + 10))
        .await?;
    store
        .create_session(session(mia, phone, 2, T0 + 20))
        .await?;
    store
        .create_session(session(mia, phone, 3, T0 + 30))
        .await?;
    store.create_session(session(ned, neds, 4, T0 + 20)).await?;
    store.create_session(session(ned, neds, 5, T0 + 40)).await?;

    assert_eq!(store.delete_expired_sessions(T0 + 9).await?, 0);
    // Expiry is inclusive: a session expiring at `now` is gone.
    assert_eq!(store.delete_expired_sessions(T0 + 20).await?, 3);
    assert_eq!(
        store
            .session_by_token_hash(&[3; 32])
            .await?
            .map(|s| s.expires_at),
        Some(T0 + 30)
    );
    assert_eq!(store.session_by_token_hash(&[4; 32]).await?, None);

    assert_eq!(store.delete_sessions_for_user(mia).await?, 1);
    assert_eq!(store.delete_sessions_for_user(mia).await?, 0);
    assert!(store.session_by_token_hash(&[5; 32]).await?.is_some());
    assert_eq!(store.delete_expired_sessions(T0 + 1000).await?, 1);
    Ok(())
}
