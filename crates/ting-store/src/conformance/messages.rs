//! Message log cases: ordering, rejections, cursors, retention.

use std::sync::Arc;

use ting_proto::{DeviceId, MessageId, RoomId, UserId};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{T0, app, appended, new_device, new_room, user_with_device};
use crate::{AppendOutcome, Error, MessageKind, Result, Store, StoredMessage};

fn seqs(messages: &[StoredMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

pub(super) async fn gap_free(store: &dyn Store) -> Result<()> {
    let eve = user_with_device(store, "eve").await?;
    let (_, stranger) = user_with_device(store, "fay").await?;
    let room = new_room(store, eve, None).await?;
    let mut sent = Vec::new();
    for tag in 1..=3u8 {
        let msg = app(room, eve, 0, tag);
        let outcome = store.append_message(msg.clone(), None).await?;
        assert_eq!(
            outcome,
            AppendOutcome::Appended {
                seq: u64::from(tag),
                epoch: 0
            }
        );
        sent.push(StoredMessage {
            room_id: room,
            seq: u64::from(tag),
            id: msg.id,
            sender_device: eve.1,
            sender_user: eve.0,
            kind: MessageKind::Application,
            epoch: 0,
            payload: vec![tag],
            created_at: T0,
        });
    }
    let state = store.room(room).await?.expect("room");
    assert_eq!((state.epoch, state.last_seq), (0, 3));

    assert_eq!(store.messages_after(room, eve.1, 0, 100).await?, sent);
    assert_eq!(seqs(&store.messages_after(room, eve.1, 1, 1).await?), [2]);
    assert!(store.messages_after(room, eve.1, 3, 100).await?.is_empty());
    assert!(
        store
            .messages_after(room, eve.1, u64::MAX, 100)
            .await?
            .is_empty()
    );
    assert!(store.messages_after(room, eve.1, 0, 0).await?.is_empty());
    assert_eq!(
        seqs(&store.messages_before(room, eve.1, 4, 2).await?),
        [3, 2]
    );
    assert_eq!(
        seqs(
            &store
                .messages_before(room, eve.1, u64::MAX, u32::MAX)
                .await?
        ),
        [3, 2, 1]
    );
    assert!(store.messages_before(room, eve.1, 1, 100).await?.is_empty());
    // Not a member, or not a room: nothing.
    assert!(
        store
            .messages_after(room, stranger, 0, 100)
            .await?
            .is_empty()
    );
    assert!(
        store
            .messages_before(room, stranger, 10, 100)
            .await?
            .is_empty()
    );
    assert!(
        store
            .messages_after(RoomId::random(), eve.1, 0, 100)
            .await?
            .is_empty()
    );
    Ok(())
}

/// The room's (epoch, last_seq) and its messages as seen by `device`.
async fn snapshot(
    store: &dyn Store,
    room: RoomId,
    device: DeviceId,
) -> Result<(u64, u64, Vec<StoredMessage>)> {
    let state = store.room(room).await?.expect("room");
    let messages = store.messages_after(room, device, 0, 1000).await?;
    Ok((state.epoch, state.last_seq, messages))
}

pub(super) async fn rejections(store: &dyn Store) -> Result<()> {
    let gus = user_with_device(store, "gus").await?;
    let (_, other) = user_with_device(store, "hal").await?;
    let room = new_room(store, gus, None).await?;
    let original = app(room, gus, 0, 1);
    assert_eq!(
        appended(store.append_message(original.clone(), None).await?),
        1
    );
    let before = snapshot(store, room, gus.1).await?;

    assert_eq!(
        store.append_message(app(room, gus, 1, 2), None).await?,
        AppendOutcome::StaleEpoch { current_epoch: 0 }
    );
    assert_eq!(
        store
            .append_message(app(room, gus, u64::MAX, 2), None)
            .await?,
        AppendOutcome::StaleEpoch { current_epoch: 0 }
    );
    // A resend (even with another payload or epoch) is recognised before the epoch check.
    let mut resend = original.clone();
    resend.payload = vec![9];
    assert_eq!(
        store.append_message(resend.clone(), None).await?,
        AppendOutcome::Duplicate { seq: 1 }
    );
    resend.epoch = 7;
    assert_eq!(
        store.append_message(resend, None).await?,
        AppendOutcome::Duplicate { seq: 1 }
    );

    let spare = store.create_device(new_device(gus.0, 2, T0)).await?.id;
    let not_members: [(UserId, DeviceId, RoomId); 4] = [
        // Another user's device.
        (UserId::random(), other, room),
        // The right device claimed by another user.
        (UserId::random(), gus.1, room),
        // An unknown room.
        (gus.0, gus.1, RoomId::random()),
        // A device of the member user that is not in the room.
        (gus.0, spare, room),
    ];
    for (user, device, target) in not_members {
        assert_eq!(
            store
                .append_message(app(target, (user, device), 0, 3), None)
                .await?,
            AppendOutcome::NotMember
        );
    }
    // Duplicate ids in other rooms are fine; a non-member never learns about this room's.
    let elsewhere = new_room(store, gus, None).await?;
    let mut same_id = app(elsewhere, gus, 0, 4);
    same_id.id = original.id;
    assert_eq!(appended(store.append_message(same_id, None).await?), 1);

    assert_eq!(snapshot(store, room, gus.1).await?, before);

    // A member device revoked (but not yet removed by a commit) may not send.
    assert!(store.revoke_device(gus.1, T0 + 1).await?);
    assert_eq!(
        store.append_message(app(room, gus, 0, 5), None).await?,
        AppendOutcome::NotMember
    );
    assert_eq!(snapshot(store, room, gus.1).await?, before);
    Ok(())
}

pub(super) async fn concurrent(store: Arc<dyn Store>) -> Result<()> {
    const N: u64 = 16;
    const ROUNDS: u64 = 3;
    let ivo = user_with_device(&*store, "ivo").await?;
    let jon = user_with_device(&*store, "jon").await?;
    let room = new_room(&*store, ivo, None).await?;
    let outcome = store
        .append_message(
            super::commit(room, ivo, 0, 0),
            Some(super::effects(&[jon], &[], 0)),
        )
        .await?;
    assert_eq!(appended(outcome), 1);
    let mut got: Vec<(u64, MessageId)> = Vec::new();
    for _ in 0..ROUNDS {
        let start = Arc::new(Barrier::new(usize::try_from(N).unwrap_or(1)));
        let mut tasks = JoinSet::new();
        for i in 0..N {
            let (store, start) = (Arc::clone(&store), Arc::clone(&start));
            let sender = if i % 2 == 0 { ivo } else { jon };
            tasks.spawn(async move {
                let msg = app(room, sender, 1, u8::try_from(i).unwrap_or(0));
                let id = msg.id;
                start.wait().await;
                store
                    .append_message(msg, None)
                    .await
                    .map(|outcome| (appended(outcome), id))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            got.push(joined.expect("task panicked")?);
        }
    }
    got.sort();
    let assigned: Vec<u64> = got.iter().map(|(seq, _)| *seq).collect();
    let total = N * ROUNDS;
    assert_eq!(
        assigned,
        (2..=total + 1).collect::<Vec<_>>(),
        "gap-free and unique"
    );
    let stored: Vec<(u64, MessageId)> = store
        .messages_after(room, ivo.1, 1, 1000)
        .await?
        .iter()
        .map(|m| (m.seq, m.id))
        .collect();
    assert_eq!(stored, got);
    assert_eq!(store.room(room).await?.map(|r| r.last_seq), Some(total + 1));
    Ok(())
}

pub(super) async fn cursors(store: &dyn Store) -> Result<()> {
    let kai = user_with_device(store, "kai").await?;
    let second = store.create_device(new_device(kai.0, 2, T0)).await?.id;
    let room = new_room(store, kai, None).await?;
    assert_eq!(store.cursor(kai.1, room).await?, 0);
    // Capped at the room's last seq (0 while empty).
    store.advance_cursor(kai.1, room, 5).await?;
    assert_eq!(store.cursor(kai.1, room).await?, 0);
    for tag in 1..=3 {
        appended(store.append_message(app(room, kai, 0, tag), None).await?);
    }
    store.advance_cursor(kai.1, room, 2).await?;
    assert_eq!(store.cursor(kai.1, room).await?, 2);
    store.advance_cursor(kai.1, room, 1).await?;
    assert_eq!(store.cursor(kai.1, room).await?, 2, "never backward");
    store.advance_cursor(kai.1, room, u64::MAX).await?;
    assert_eq!(store.cursor(kai.1, room).await?, 3, "capped");
    // Per device and room.
    assert_eq!(store.cursor(second, room).await?, 0);
    store.advance_cursor(second, room, 1).await?;
    assert_eq!(store.cursor(second, room).await?, 1);
    assert_eq!(store.cursor(kai.1, RoomId::random()).await?, 0);
    match store.advance_cursor(kai.1, RoomId::random(), 1).await {
        Err(Error::NotFound("room")) => {}
        other => panic!("cursor in an unknown room: expected NotFound(\"room\"), got {other:?}"),
    }
    match store.advance_cursor(DeviceId::random(), room, 1).await {
        Err(Error::NotFound("device")) => {}
        other => {
            panic!("cursor of an unknown device: expected NotFound(\"device\"), got {other:?}")
        }
    }
    Ok(())
}

pub(super) async fn retention(store: &dyn Store) -> Result<()> {
    let lea = user_with_device(store, "lea").await?;
    let kept_room = new_room(store, lea, None).await?;
    let room = new_room(store, lea, Some(100)).await?;
    let at = |tag: u8, created_at: i64, target: RoomId| {
        let mut msg = app(target, lea, 0, tag);
        msg.created_at = created_at;
        msg
    };
    appended(store.append_message(at(1, T0, room), None).await?);
    appended(store.append_message(at(2, T0 + 50, room), None).await?);
    appended(store.append_message(at(3, T0, kept_room), None).await?);
    // Retention changes apply to messages stored from then on.
    store.set_retention(room, Some(1000)).await?;
    appended(store.append_message(at(4, T0, room), None).await?);

    assert_eq!(store.delete_expired_messages(T0 + 99).await?, 0);
    assert_eq!(store.delete_expired_messages(T0 + 100).await?, 1);
    assert_eq!(
        seqs(&store.messages_after(room, lea.1, 0, 100).await?),
        [2, 3]
    );
    assert_eq!(store.delete_expired_messages(T0 + 150).await?, 1);
    assert_eq!(seqs(&store.messages_after(room, lea.1, 0, 100).await?), [3]);
    assert_eq!(store.delete_expired_messages(i64::MAX).await?, 1);
    assert!(store.messages_after(room, lea.1, 0, 100).await?.is_empty());
    // Seqs are never reused, and rooms without retention keep everything.
    assert_eq!(
        appended(store.append_message(at(5, T0, room), None).await?),
        4
    );
    assert_eq!(
        seqs(&store.messages_after(kept_room, lea.1, 0, 100).await?),
        [1]
    );
    // A huge retention saturates instead of overflowing.
    store.set_retention(room, Some(i64::MAX)).await?;
    assert_eq!(
        appended(store.append_message(at(6, T0, room), None).await?),
        5
    );
    assert_eq!(store.delete_expired_messages(T0 + 10_000).await?, 1);
    assert_eq!(seqs(&store.messages_after(room, lea.1, 0, 100).await?), [5]);
    Ok(())
}
