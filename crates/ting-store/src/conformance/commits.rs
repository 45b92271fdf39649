//! Commit cases: membership effects, Welcomes, invalid effects, racing commits.

use std::sync::Arc;

use ting_proto::{DeviceId, RoomId, UserId};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{T0, app, appended, commit, effects, new_device, new_room, user_with_device};
use crate::{AppendOutcome, CommitEffects, PendingWelcome, Result, Store};

/// Seqs of the room's messages visible to `device`.
async fn visible(store: &dyn Store, room: RoomId, device: DeviceId) -> Result<Vec<u64>> {
    Ok(store
        .messages_after(room, device, 0, 1000)
        .await?
        .iter()
        .map(|m| m.seq)
        .collect())
}

pub(super) async fn effects_applied(store: &dyn Store) -> Result<()> {
    let mia = user_with_device(store, "mia").await?;
    let (ned, ned_phone) = user_with_device(store, "ned").await?;
    let ned_laptop = store.create_device(new_device(ned, 2, T0)).await?.id;
    let room = new_room(store, mia, None).await?;
    assert_eq!(
        appended(store.append_message(app(room, mia, 0, 1), None).await?),
        1
    );

    // Mia adds both of Ned's devices.
    let added = effects(&[(ned, ned_phone), (ned, ned_laptop)], &[], 7);
    assert_eq!(
        store
            .append_message(commit(room, mia, 0, 2), Some(added))
            .await?,
        AppendOutcome::Appended { seq: 2, epoch: 1 }
    );
    assert_eq!(
        store.room(room).await?.map(|r| (r.epoch, r.last_seq)),
        Some((1, 2))
    );
    for device in [ned_phone, ned_laptop] {
        let member = store.membership(room, device).await?.expect("added");
        assert_eq!(
            (member.user_id, member.added_seq, member.removed_seq),
            (ned, 2, None)
        );
        assert_eq!(
            store.pending_welcomes(device).await?,
            [PendingWelcome {
                room_id: room,
                device_id: device,
                commit_seq: 2,
                payload: vec![7],
                created_at: T0,
            }]
        );
        // Added devices see only what follows the adding commit (they join by the Welcome).
        assert!(visible(store, room, device).await?.is_empty());
    }
    assert_eq!(store.room_devices(room, false).await?.len(), 3);

    // The old epoch is over; Ned sends in the new one.
    assert_eq!(
        store.append_message(app(room, mia, 0, 3), None).await?,
        AppendOutcome::StaleEpoch { current_epoch: 1 }
    );
    assert_eq!(
        appended(
            store
                .append_message(app(room, (ned, ned_phone), 1, 3), None)
                .await?
        ),
        3
    );
    assert_eq!(visible(store, room, ned_laptop).await?, [3]);
    assert_eq!(visible(store, room, mia.1).await?, [1, 2, 3]);

    // Ned's laptop is removed; it sees up to and including its removal, nothing later.
    let removal = effects(&[], &[ned_laptop], 0);
    assert_eq!(
        store
            .append_message(commit(room, (ned, ned_phone), 1, 4), Some(removal))
            .await?,
        AppendOutcome::Appended { seq: 4, epoch: 2 }
    );
    assert_eq!(
        appended(store.append_message(app(room, mia, 2, 5), None).await?),
        5
    );
    assert_eq!(visible(store, room, ned_laptop).await?, [3, 4]);
    assert_eq!(
        store
            .messages_before(room, ned_laptop, 100, 100)
            .await?
            .iter()
            .map(|m| m.seq)
            .collect::<Vec<_>>(),
        [4, 3]
    );
    assert_eq!(visible(store, room, ned_phone).await?, [3, 4, 5]);
    assert_eq!(
        store
            .append_message(app(room, (ned, ned_laptop), 2, 6), None)
            .await?,
        AppendOutcome::NotMember
    );
    let gone = store.membership(room, ned_laptop).await?.expect("kept");
    assert_eq!((gone.added_seq, gone.removed_seq), (2, Some(4)));
    assert!(store.rooms_for_device(ned_laptop).await?.is_empty());

    // A commit without effects (a key update) only advances the epoch.
    assert_eq!(
        store.append_message(commit(room, mia, 2, 6), None).await?,
        AppendOutcome::Appended { seq: 6, epoch: 3 }
    );
    assert_eq!(store.room_devices(room, false).await?.len(), 2);

    // Welcomes are listed oldest first and deleted once.
    let later = new_room(store, mia, None).await?;
    let mut join = commit(later, mia, 0, 1);
    join.created_at = T0 + 10;
    appended(
        store
            .append_message(join, Some(effects(&[(ned, ned_phone)], &[], 8)))
            .await?,
    );
    let rooms: Vec<RoomId> = store
        .pending_welcomes(ned_phone)
        .await?
        .iter()
        .map(|w| w.room_id)
        .collect();
    assert_eq!(rooms, [room, later]);
    assert!(store.delete_welcome(ned_phone, room).await?);
    assert!(!store.delete_welcome(ned_phone, room).await?);
    let left = store.pending_welcomes(ned_phone).await?;
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].room_id, left[0].commit_seq, left[0].created_at),
        (later, 1, T0 + 10)
    );
    assert_eq!(store.pending_welcomes(ned_laptop).await?.len(), 1);
    Ok(())
}

pub(super) async fn invalid(store: &dyn Store) -> Result<()> {
    let ola = user_with_device(store, "ola").await?;
    let (pam, pam_phone) = user_with_device(store, "pam").await?;
    let member = user_with_device(store, "quin").await?;
    let revoked = store.create_device(new_device(pam, 2, T0)).await?.id;
    assert!(store.revoke_device(revoked, T0).await?);
    let outsider = user_with_device(store, "ray").await?;
    let room = new_room(store, ola, None).await?;
    appended(
        store
            .append_message(commit(room, ola, 0, 1), Some(effects(&[member], &[], 1)))
            .await?,
    );
    let gone = store.create_device(new_device(pam, 3, T0)).await?.id;
    appended(
        store
            .append_message(
                commit(room, ola, 1, 2),
                Some(effects(&[(pam, gone)], &[], 2)),
            )
            .await?,
    );
    appended(
        store
            .append_message(commit(room, ola, 2, 3), Some(effects(&[], &[gone], 3)))
            .await?,
    );
    let epoch = 3;
    let before = (
        store.room(room).await?,
        store.room_devices(room, true).await?,
    );

    let cases: Vec<(&str, crate::NewMessage, Option<CommitEffects>)> = vec![
        (
            "adding a revoked device",
            commit(room, ola, epoch, 9),
            Some(effects(&[(pam, revoked)], &[], 9)),
        ),
        (
            "adding an unknown device",
            commit(room, ola, epoch, 9),
            Some(effects(&[(pam, DeviceId::random())], &[], 9)),
        ),
        (
            "adding a device as another user's",
            commit(room, ola, epoch, 9),
            Some(effects(&[(outsider.0, pam_phone)], &[], 9)),
        ),
        (
            "adding a device of an unknown user",
            commit(room, ola, epoch, 9),
            Some(effects(&[(UserId::random(), pam_phone)], &[], 9)),
        ),
        (
            "adding an active member",
            commit(room, ola, epoch, 9),
            Some(effects(&[member], &[], 9)),
        ),
        (
            "adding without a Welcome",
            commit(room, ola, epoch, 9),
            Some(CommitEffects {
                added: vec![(pam_phone, pam)],
                removed: Vec::new(),
                welcome: None,
            }),
        ),
        (
            "adding one device twice",
            commit(room, ola, epoch, 9),
            Some(effects(&[(pam, pam_phone), (pam, pam_phone)], &[], 9)),
        ),
        (
            "removing a non-member",
            commit(room, ola, epoch, 9),
            Some(effects(&[], &[outsider.1], 9)),
        ),
        (
            "removing a removed member",
            commit(room, ola, epoch, 9),
            Some(effects(&[], &[gone], 9)),
        ),
        (
            "adding and removing one device",
            commit(room, ola, epoch, 9),
            Some(effects(&[member], &[member.1], 9)),
        ),
        (
            "a valid add with an invalid removal",
            commit(room, ola, epoch, 9),
            Some(effects(&[(pam, pam_phone)], &[outsider.1], 9)),
        ),
        (
            "effects on an application message",
            app(room, ola, epoch, 9),
            Some(CommitEffects::default()),
        ),
    ];
    for (what, msg, effects) in cases {
        assert_eq!(
            store.append_message(msg, effects).await?,
            AppendOutcome::InvalidEffects,
            "{what}"
        );
    }
    // The epoch is checked first: a stale commit is stale, whatever its effects.
    assert_eq!(
        store
            .append_message(
                commit(room, ola, 0, 9),
                Some(effects(&[], &[outsider.1], 9))
            )
            .await?,
        AppendOutcome::StaleEpoch {
            current_epoch: epoch
        }
    );
    assert_eq!(
        (
            store.room(room).await?,
            store.room_devices(room, true).await?
        ),
        before
    );
    for device in [pam_phone, revoked, outsider.1] {
        assert!(store.pending_welcomes(device).await?.is_empty());
        assert!(store.rooms_for_device(device).await?.is_empty());
    }
    assert!(store.messages_after(room, ola.1, 3, 100).await?.is_empty());
    Ok(())
}

pub(super) async fn concurrent(store: Arc<dyn Store>) -> Result<()> {
    const N: usize = 8;
    const ROUNDS: u64 = 6;
    let sam = user_with_device(&*store, "sam").await?;
    let room = new_room(&*store, sam, None).await?;
    let mut joiners = Vec::new();
    for i in 0..N {
        let joiner = user_with_device(&*store, &format!("joiner{i}")).await?;
        joiners.push(joiner);
    }
    for round in 0..ROUNDS {
        // All start together; the first round's commits each add another device, the later
        // ones are key updates.
        let start = Arc::new(Barrier::new(N));
        let mut tasks = JoinSet::new();
        for (i, joiner) in joiners.iter().enumerate() {
            let (store, start) = (Arc::clone(&store), Arc::clone(&start));
            let tag = u8::try_from(i).unwrap_or(0);
            let effects = (round == 0).then(|| effects(&[*joiner], &[], tag));
            tasks.spawn(async move {
                start.wait().await;
                store
                    .append_message(commit(room, sam, round, tag), effects)
                    .await
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            outcomes.push(joined.expect("task panicked")?);
        }
        let next = round + 1;
        let won = outcomes
            .iter()
            .filter(|o| {
                **o == AppendOutcome::Appended {
                    seq: next,
                    epoch: next,
                }
            })
            .count();
        let stale = outcomes
            .iter()
            .filter(|o| {
                **o == AppendOutcome::StaleEpoch {
                    current_epoch: next,
                }
            })
            .count();
        assert_eq!(
            (won, stale),
            (1, N - 1),
            "round {round}: exactly one commit wins: {outcomes:?}"
        );
        assert_eq!(
            store.room(room).await?.map(|r| (r.epoch, r.last_seq)),
            Some((next, next))
        );
    }
    // Only the first winner's effects were applied.
    assert_eq!(store.room_devices(room, true).await?.len(), 2);
    let mut welcomed = 0;
    for (_, device) in &joiners {
        welcomed += store.pending_welcomes(*device).await?.len();
    }
    assert_eq!(welcomed, 1);
    let seqs: Vec<u64> = store
        .messages_after(room, sam.1, 0, 1000)
        .await?
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, (1..=ROUNDS).collect::<Vec<_>>());
    Ok(())
}
