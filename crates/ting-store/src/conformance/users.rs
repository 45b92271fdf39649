//! User cases.

use std::sync::Arc;

use ting_proto::UserId;
use tokio::task::JoinSet;

use super::{T0, new_user};
use crate::{Error, Result, Store};

pub(super) async fn round_trip(store: &dyn Store) -> Result<()> {
    assert_eq!(store.count_users().await?, 0);
    assert!(store.list_users().await?.is_empty());
    let mut admin = new_user("zoe");
    admin.is_admin = true;
    admin.created_at = T0 + 5;
    let zoe = store.create_user(admin).await?;
    assert!(zoe.is_admin);
    assert_eq!(zoe.created_at, T0 + 5);
    // Byte order: upper case before lower case, non-ASCII last (no locale collation).
    let bob = store.create_user(new_user("Bob")).await?;
    let alice = store.create_user(new_user("alice")).await?;
    let emile = store.create_user(new_user("émile")).await?;

    assert_eq!(store.user_by_id(zoe.id).await?.as_ref(), Some(&zoe));
    assert_eq!(
        store.user_by_username("alice").await?.as_ref(),
        Some(&alice)
    );
    assert_eq!(
        store.user_by_username("émile").await?.as_ref(),
        Some(&emile)
    );
    // Exact match only: the caller normalises.
    assert_eq!(store.user_by_username("ALICE").await?, None);
    assert_eq!(store.user_by_username("bob").await?, None);
    assert_eq!(store.user_by_id(UserId::random()).await?, None);

    let names: Vec<String> = store
        .list_users()
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["Bob", "alice", "zoe", "émile"]);
    assert_eq!(store.count_users().await?, 4);
    assert_eq!(store.list_users().await?[0], bob);
    Ok(())
}

pub(super) async fn username_conflict(store: &dyn Store) -> Result<()> {
    let first = store.create_user(new_user("carol")).await?;
    let mut again = new_user("carol");
    again.password_hash = "other".into();
    match store.create_user(again).await {
        Err(Error::Conflict("username")) => {}
        other => panic!("duplicate username: expected Conflict(\"username\"), got {other:?}"),
    }
    // Usernames are case-sensitive here (normalisation is the caller's job).
    store.create_user(new_user("Carol")).await?;
    assert_eq!(store.count_users().await?, 2);
    assert_eq!(store.user_by_username("carol").await?, Some(first));
    Ok(())
}

pub(super) async fn set_password_hash(store: &dyn Store) -> Result<()> {
    let dave = store.create_user(new_user("dave")).await?;
    store.set_password_hash(dave.id, "$argon2id$new").await?;
    let stored = store.user_by_id(dave.id).await?.expect("dave exists");
    assert_eq!(stored.password_hash, "$argon2id$new");
    assert_eq!(stored.username, "dave");
    match store.set_password_hash(UserId::random(), "x").await {
        Err(Error::NotFound("user")) => {}
        other => panic!("unknown user: expected NotFound(\"user\"), got {other:?}"),
    }
    Ok(())
}

pub(super) async fn first_user(store: &dyn Store) -> Result<()> {
    let mut admin = new_user("root");
    admin.is_admin = true;
    let created = store
        .create_first_user(admin)
        .await?
        .expect("the first user is created into an empty store");
    assert!(created.is_admin);
    assert_eq!(store.user_by_id(created.id).await?, Some(created));
    assert_eq!(store.create_first_user(new_user("second")).await?, None);
    assert_eq!(store.user_by_username("second").await?, None);
    assert_eq!(store.count_users().await?, 1);
    Ok(())
}

pub(super) async fn first_user_concurrent(store: Arc<dyn Store>) -> Result<()> {
    let mut tasks = JoinSet::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            store
                .create_first_user(new_user(&format!("admin{i}")))
                .await
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Some(user) = joined.expect("task panicked")? {
            winners.push(user);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one concurrent first user wins");
    assert_eq!(store.count_users().await?, 1);
    assert_eq!(store.list_users().await?, winners);
    Ok(())
}
