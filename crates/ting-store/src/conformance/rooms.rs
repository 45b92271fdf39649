//! Room cases.

use ting_proto::{DeviceId, RoomId, UserId};

use super::{T0, app, appended, commit, effects, new_device, new_room, user_with_device};
use crate::{Error, NewRoom, Result, Room, RoomDevice, RoomKind, Store};

fn room_by(user: UserId, device: DeviceId) -> NewRoom {
    NewRoom {
        id: RoomId::random(),
        kind: RoomKind::Direct,
        created_by: user,
        creator_device: device,
        created_at: T0 + 5,
        retention_secs: Some(3600),
    }
}

pub(super) async fn round_trip(store: &dyn Store) -> Result<()> {
    let (ada, laptop) = user_with_device(store, "ada").await?;
    let new = room_by(ada, laptop);
    let room = store.create_room(new.clone()).await?;
    let expected = Room {
        id: new.id,
        kind: RoomKind::Direct,
        created_by: ada,
        created_at: T0 + 5,
        epoch: 0,
        last_seq: 0,
        retention_secs: Some(3600),
    };
    assert_eq!(room, expected);
    assert_eq!(store.room(new.id).await?, Some(expected.clone()));
    assert_eq!(store.room(RoomId::random()).await?, None);
    let creator = RoomDevice {
        room_id: new.id,
        device_id: laptop,
        user_id: ada,
        added_seq: 0,
        removed_seq: None,
    };
    assert_eq!(
        store.membership(new.id, laptop).await?,
        Some(creator.clone())
    );
    assert_eq!(store.membership(new.id, DeviceId::random()).await?, None);
    assert_eq!(
        store.room_devices(new.id, false).await?,
        std::slice::from_ref(&creator)
    );
    assert_eq!(
        store.rooms_for_device(laptop).await?,
        [(expected.clone(), creator.clone())]
    );
    assert!(store.room_devices(RoomId::random(), true).await?.is_empty());

    store.set_retention(new.id, None).await?;
    assert_eq!(
        store.room(new.id).await?.map(|r| r.retention_secs),
        Some(None)
    );
    store.set_retention(new.id, Some(60)).await?;
    assert_eq!(
        store.room(new.id).await?.map(|r| r.retention_secs),
        Some(Some(60))
    );
    match store.set_retention(RoomId::random(), Some(60)).await {
        Err(Error::NotFound("room")) => {}
        other => panic!("retention of an unknown room: expected NotFound, got {other:?}"),
    }

    // A reused room id is a conflict.
    let mut again = room_by(ada, laptop);
    again.id = new.id;
    match store.create_room(again).await {
        Err(Error::Conflict("room_id")) => {}
        other => panic!("reused room id: expected Conflict(\"room_id\"), got {other:?}"),
    }

    // The creating device must be an active device of the creating user.
    let (_, bea_device) = user_with_device(store, "bea").await?;
    let revoked = store.create_device(new_device(ada, 2, T0)).await?.id;
    assert!(store.revoke_device(revoked, T0 + 1).await?);
    for (user, device) in [
        (ada, DeviceId::random()),
        (ada, revoked),
        (ada, bea_device),
        (UserId::random(), laptop),
    ] {
        let bad = room_by(user, device);
        match store.create_room(bad.clone()).await {
            Err(Error::NotFound("device")) => {}
            other => panic!("room by a bad device: expected NotFound(\"device\"), got {other:?}"),
        }
        assert_eq!(store.room(bad.id).await?, None);
    }
    assert!(store.rooms_for_device(bea_device).await?.is_empty());
    assert!(store.rooms_for_device(revoked).await?.is_empty());
    Ok(())
}

pub(super) async fn membership_changes(store: &dyn Store) -> Result<()> {
    let cleo = user_with_device(store, "cleo").await?;
    let dan = user_with_device(store, "dan").await?;
    let first = new_room(store, cleo, None).await?;
    let second = new_room(store, cleo, None).await?;
    // Dan joins both rooms, then leaves the first.
    for room in [first, second] {
        let outcome = store
            .append_message(commit(room, cleo, 0, 1), Some(effects(&[dan], &[], 1)))
            .await?;
        assert_eq!(appended(outcome), 1);
    }
    let listed = |rooms: Vec<(Room, RoomDevice)>| -> Vec<RoomId> {
        let mut ids: Vec<RoomId> = rooms.into_iter().map(|(room, _)| room.id).collect();
        ids.sort();
        ids
    };
    let mut both = vec![first, second];
    both.sort();
    assert_eq!(listed(store.rooms_for_device(dan.1).await?), both);
    assert_eq!(
        appended(
            store
                .append_message(commit(first, cleo, 1, 2), Some(effects(&[], &[dan.1], 2)))
                .await?
        ),
        2
    );
    assert_eq!(listed(store.rooms_for_device(dan.1).await?), [second]);
    assert_eq!(listed(store.rooms_for_device(cleo.1).await?), both);
    assert_eq!(store.room_devices(first, false).await?.len(), 1);
    let all = store.room_devices(first, true).await?;
    assert_eq!(all.len(), 2);
    let removed = store.membership(first, dan.1).await?.expect("kept");
    assert_eq!((removed.added_seq, removed.removed_seq), (1, Some(2)));

    // Messages while Dan is away, then he is re-added.
    appended(store.append_message(app(first, cleo, 2, 3), None).await?);
    assert_eq!(
        appended(
            store
                .append_message(commit(first, cleo, 2, 4), Some(effects(&[dan], &[], 9)))
                .await?
        ),
        4
    );
    let back = store.membership(first, dan.1).await?.expect("member");
    assert_eq!((back.added_seq, back.removed_seq), (4, None));
    assert_eq!(listed(store.rooms_for_device(dan.1).await?), both);
    assert_eq!(store.room_devices(first, false).await?.len(), 2);
    // The newer Welcome replaced the older one of the first room.
    let welcome = store
        .pending_welcomes(dan.1)
        .await?
        .into_iter()
        .find(|w| w.room_id == first)
        .expect("welcome");
    assert_eq!((welcome.commit_seq, welcome.payload), (4, vec![9]));
    // He reads only what follows the re-adding commit, and may send again.
    assert!(store.messages_after(first, dan.1, 0, 100).await?.is_empty());
    assert_eq!(
        appended(store.append_message(app(first, dan, 3, 5), None).await?),
        5
    );
    let seen: Vec<u64> = store
        .messages_after(first, dan.1, 0, 100)
        .await?
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seen, [5]);
    Ok(())
}
