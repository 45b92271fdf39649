//! Account administration cases.

use ting_proto::UserId;

use super::{T0, new_device, new_user};
use crate::{
    AuditQuery, Error, Invitation, InvitationKind, NewAuditRecord, Result, Store, UserQuery,
};

fn query(search: Option<&str>, after: Option<&str>, limit: u32) -> UserQuery {
    UserQuery {
        search: search.map(str::to_owned),
        after: after.map(str::to_owned),
        limit,
    }
}

pub(super) async fn user_pages(store: &dyn Store) -> Result<()> {
    for i in 0..25 {
        store.create_user(new_user(&format!("user{i:02}"))).await?;
    }
    let per_cent = store.create_user(new_user("a%b_c")).await?;
    let (page, total) = store.user_page(&query(None, None, 10)).await?;
    assert_eq!(total, 26);
    assert_eq!(page.len(), 10);
    assert_eq!(page[0].user.username, "a%b_c", "byte order");
    let (page2, _) = store
        .user_page(&query(None, Some(&page[9].user.username), 10))
        .await?;
    assert_eq!(
        page2[0].user.username, "user09",
        "continues after the last name"
    );
    let (found, total) = store.user_page(&query(Some("user1"), None, 50)).await?;
    assert_eq!(total, 10);
    assert!(found.iter().all(|s| s.user.username.starts_with("user1")));
    let (upper, _) = store.user_page(&query(Some("USER1"), None, 50)).await?;
    assert_eq!(upper.len(), 10, "search ignores ASCII case");
    // `%` and `_` are matched literally.
    let (lit, total) = store.user_page(&query(Some("%b_"), None, 50)).await?;
    assert_eq!((lit.len(), total), (1, 1));
    assert_eq!(lit[0].user.id, per_cent.id);
    let (none, total) = store.user_page(&query(Some("_"), None, 50)).await?;
    assert_eq!(
        (none.len(), total),
        (1, 1),
        "only the name holding an underscore"
    );

    // Device counts and last seen.
    let u = store.user_by_username("user03").await?.expect("user03");
    let d1 = store.create_device(new_device(u.id, 1, T0)).await?;
    let d2 = store.create_device(new_device(u.id, 2, T0)).await?;
    store.touch_device(d1.id, T0 + 50).await?;
    store.touch_device(d2.id, T0 + 70).await?;
    store.revoke_device(d2.id, T0 + 80).await?;
    let (one, _) = store.user_page(&query(Some("user03"), None, 5)).await?;
    assert_eq!(one[0].active_devices, 1);
    assert_eq!(one[0].last_seen_at, Some(T0 + 70));
    assert_eq!(one[0].user.deactivated_at, None);
    Ok(())
}

pub(super) async fn deactivation_and_admins(store: &dyn Store) -> Result<()> {
    let mut admin = new_user("root");
    admin.is_admin = true;
    let root = store.create_user(admin).await?;
    let eve = store.create_user(new_user("eve")).await?;
    // The only admin can be neither demoted nor deactivated.
    assert!(matches!(
        store.set_admin(root.id, false).await,
        Err(Error::Conflict("last_admin"))
    ));
    assert!(matches!(
        store.deactivate(root.id, T0).await,
        Err(Error::Conflict("last_admin"))
    ));
    assert!(store.user_by_id(root.id).await?.expect("root").is_admin);
    // Others can.
    store.deactivate(eve.id, T0 + 1).await?;
    store.deactivate(eve.id, T0 + 2).await?;
    assert_eq!(
        store.user_by_id(eve.id).await?.expect("eve").deactivated_at,
        Some(T0 + 1),
        "the first deactivation time stays"
    );
    // A deactivated admin does not count as another admin.
    store.set_admin(eve.id, true).await?;
    assert!(matches!(
        store.set_admin(root.id, false).await,
        Err(Error::Conflict("last_admin"))
    ));
    store.set_deactivated(eve.id, None).await?;
    store.set_admin(root.id, false).await?;
    assert!(!store.user_by_id(root.id).await?.expect("root").is_admin);
    store.deactivate(root.id, T0 + 3).await?;
    for missing in [
        store.set_admin(UserId::random(), true).await,
        store.set_admin(UserId::random(), false).await,
        store.deactivate(UserId::random(), T0).await,
        store.set_deactivated(UserId::random(), None).await,
    ] {
        assert!(matches!(missing, Err(Error::NotFound("user"))));
    }
    Ok(())
}

fn invitation(id: &str, token: u8, kind: InvitationKind, expires_at: i64) -> Invitation {
    Invitation {
        id: id.to_owned(),
        token_hash: vec![token; 32],
        username: format!("new-{id}"),
        kind,
        is_admin: token.is_multiple_of(2),
        created_by: None,
        created_at: T0 + i64::from(token),
        expires_at,
        used_at: None,
    }
}

pub(super) async fn invitations(store: &dyn Store) -> Result<()> {
    let admin = store.create_user(new_user("adm")).await?;
    let mut a = invitation("a", 1, InvitationKind::Invite, T0 + 100);
    a.created_by = Some(admin.id);
    store.create_invitation(a.clone()).await?;
    store
        .create_invitation(invitation("b", 2, InvitationKind::PasswordReset, T0 + 100))
        .await?;
    store
        .create_invitation(invitation("c", 3, InvitationKind::Invite, T0 + 10))
        .await?;
    assert!(matches!(
        store
            .create_invitation(invitation("d", 1, InvitationKind::Invite, T0 + 100))
            .await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(store.invitation_by_token_hash(&[1; 32]).await?, Some(a));
    assert_eq!(store.invitation_by_token_hash(&[9; 32]).await?, None);
    let pending: Vec<String> = store
        .pending_invitations(T0 + 20)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(pending, vec!["b", "a"], "newest first, expired left out");
    assert!(store.use_invitation("a", T0 + 30).await?);
    assert!(!store.use_invitation("a", T0 + 31).await?, "only once");
    assert!(!store.use_invitation("c", T0 + 30).await?, "expired");
    assert!(!store.use_invitation("zzz", T0).await?);
    let used = store.invitation_by_token_hash(&[1; 32]).await?.expect("a");
    assert_eq!(used.used_at, Some(T0 + 30));
    assert!(store.delete_invitation("b").await?);
    assert!(!store.delete_invitation("b").await?);
    assert_eq!(store.delete_expired_invitations(T0 + 50).await?, 1);
    assert!(store.pending_invitations(T0 + 50).await?.is_empty());
    Ok(())
}

fn audit(at: i64, event: &str, actor: Option<UserId>) -> NewAuditRecord {
    NewAuditRecord {
        at,
        event: event.to_owned(),
        actor_user: actor.map(|u| u.to_string()),
        actor_device: None,
        target_user: None,
        target: None,
        client_net: None,
        details: "{}".into(),
    }
}

pub(super) async fn audit_search(store: &dyn Store) -> Result<()> {
    let a = UserId::random();
    let b = UserId::random();
    for (i, (event, actor)) in [
        ("login_succeeded", Some(a)),
        ("policy_changed", Some(a)),
        ("login_succeeded", Some(b)),
        ("login_failed", None),
        ("login_succeeded", Some(a)),
    ]
    .into_iter()
    .enumerate()
    {
        store
            .append_audit(audit(T0 + i as i64 * 10, event, actor))
            .await?;
    }
    let seqs = |records: Vec<crate::AuditRecord>| records.iter().map(|r| r.seq).collect::<Vec<_>>();
    let all = AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    };
    assert_eq!(seqs(store.audit_search(&all).await?), vec![5, 4, 3, 2, 1]);
    let logins = AuditQuery {
        event: Some("login_succeeded".into()),
        ..all.clone()
    };
    assert_eq!(seqs(store.audit_search(&logins).await?), vec![5, 3, 1]);
    let by_a = AuditQuery {
        actor: Some(a),
        ..logins.clone()
    };
    assert_eq!(seqs(store.audit_search(&by_a).await?), vec![5, 1]);
    let window = AuditQuery {
        since: Some(T0 + 10),
        until: Some(T0 + 30),
        ..all.clone()
    };
    assert_eq!(seqs(store.audit_search(&window).await?), vec![4, 3, 2]);
    let paged = AuditQuery {
        before_seq: Some(4),
        limit: 2,
        ..all
    };
    assert_eq!(seqs(store.audit_search(&paged).await?), vec![3, 2]);
    Ok(())
}
