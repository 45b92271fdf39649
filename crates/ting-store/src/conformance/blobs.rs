//! Blob metadata cases.

use ting_proto::{BlobId, DeviceId, RoomId};

use super::{T0, new_room, user_with_device};
use crate::{Blob, Error, Result, Store};

pub(super) async fn round_trip(store: &dyn Store) -> Result<()> {
    let tia = user_with_device(store, "tia").await?;
    let room = new_room(store, tia, None).await?;
    let id = BlobId::random();
    let blob = store.create_blob(id, room, tia.1, 100, T0).await?;
    let expected = Blob {
        id,
        room_id: room,
        uploader_device: tia.1,
        size: 100,
        received: 0,
        complete: false,
        created_at: T0,
        expires_at: None,
    };
    assert_eq!(blob, expected);
    assert_eq!(store.blob(id).await?, Some(expected.clone()));
    assert_eq!(store.blob(BlobId::random()).await?, None);

    let progress = |received: u64, complete: bool| Blob {
        received,
        complete,
        ..expected.clone()
    };
    store.set_blob_received(id, 40).await?;
    assert_eq!(store.blob(id).await?, Some(progress(40, false)));
    store.set_blob_received(id, 10).await?;
    assert_eq!(
        store.blob(id).await?,
        Some(progress(40, false)),
        "only grows"
    );
    store.set_blob_received(id, 100).await?;
    assert_eq!(store.blob(id).await?, Some(progress(100, true)));
    store.set_blob_received(id, u64::MAX).await?;
    assert_eq!(
        store.blob(id).await?,
        Some(progress(100, true)),
        "never past size"
    );
    match store.set_blob_received(BlobId::random(), 1).await {
        Err(Error::NotFound("blob")) => {}
        other => panic!("progress of an unknown blob: expected NotFound, got {other:?}"),
    }

    // An empty file is complete at once.
    let empty = store
        .create_blob(BlobId::random(), room, tia.1, 0, T0)
        .await?;
    assert!(empty.complete);
    assert_eq!(store.blob(empty.id).await?, Some(empty));

    match store.create_blob(id, room, tia.1, 5, T0).await {
        Err(Error::Conflict("blob_id")) => {}
        other => panic!("reused blob id: expected Conflict(\"blob_id\"), got {other:?}"),
    }
    let missing = BlobId::random();
    match store
        .create_blob(missing, RoomId::random(), tia.1, 5, T0)
        .await
    {
        Err(Error::NotFound("room")) => {}
        other => panic!("blob in an unknown room: expected NotFound(\"room\"), got {other:?}"),
    }
    match store
        .create_blob(missing, room, DeviceId::random(), 5, T0)
        .await
    {
        Err(Error::NotFound("device")) => {}
        other => panic!("blob by an unknown device: expected NotFound(\"device\"), got {other:?}"),
    }
    assert!(
        store
            .create_blob(missing, room, tia.1, u64::MAX, T0)
            .await
            .is_err()
    );
    assert_eq!(store.blob(missing).await?, None);
    Ok(())
}

pub(super) async fn expiry(store: &dyn Store) -> Result<()> {
    let uma = user_with_device(store, "uma").await?;
    let forever = new_room(store, uma, None).await?;
    let room = new_room(store, uma, Some(100)).await?;
    let create = |room: RoomId, size: u64, now: i64| async move {
        store
            .create_blob(BlobId::random(), room, uma.1, size, now)
            .await
    };
    let expiring = create(room, 10, T0).await?;
    assert_eq!(expiring.expires_at, Some(T0 + 100));
    store.set_blob_received(expiring.id, 10).await?;
    let kept = create(forever, 10, T0).await?;
    store.set_blob_received(kept.id, 10).await?;
    let stale = create(forever, 10, T0).await?;
    store.set_blob_received(stale.id, 5).await?;
    let fresh = create(forever, 10, T0 + 50).await?;

    // Nothing expired, nothing stale yet.
    assert!(store.delete_expired_blobs(T0 + 99, T0).await?.is_empty());
    // Incomplete uploads started before `stale_before` go; complete ones stay.
    assert_eq!(
        store.delete_expired_blobs(T0 + 99, T0 + 1).await?,
        [stale.id]
    );
    assert_eq!(store.blob(stale.id).await?, None);
    assert!(store.blob(fresh.id).await?.is_some());
    assert_eq!(
        store.delete_expired_blobs(T0 + 100, T0 + 1).await?,
        [expiring.id]
    );
    assert_eq!(store.blob(expiring.id).await?, None);
    let mut last = store.delete_expired_blobs(i64::MAX, T0 + 51).await?;
    last.sort();
    assert_eq!(last, [fresh.id]);
    assert_eq!(
        store.blob(kept.id).await?,
        Some(kept.clone()).map(|b| Blob {
            received: 10,
            complete: true,
            ..b
        })
    );
    Ok(())
}
