//! The administration API over HTTP: accounts, invitation and password-reset links,
//! deactivation, the administrator role and devices. Every route refuses non-administrators.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{Harness, login_body};
use serde_json::json;

const PW: &str = "correct horse battery";

async fn admin(h: &Harness, name: &str) -> String {
    h.user(name, PW).await;
    let user = h.state.store.user_by_username(name).await.unwrap().unwrap();
    h.state.store.set_admin(user.id, true).await.unwrap();
    h.login(name, PW, [name.len() as u8 + 100; 32]).await.0
}

async fn login_code(h: &Harness, name: &str, password: &str, key: u8) -> (StatusCode, String) {
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(login_body(name, password, [key; 32])),
        )
        .await;
    (r.status, r.code().to_owned())
}

async fn audit_events(h: &Harness) -> Vec<String> {
    h.state
        .store
        .audit_page(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.record.event)
        .collect()
}

#[tokio::test]
async fn every_admin_route_refuses_others_with_admin_only() {
    let h = Harness::new().await;
    let _ = admin(&h, "ada").await;
    h.user("bob", PW).await;
    let (bob, bob_device) = h.login("bob", PW, [2; 32]).await;
    let before = audit_events(&h).await.len();
    for (method, path, body) in [
        ("GET", "/api/v1/admin/users".to_owned(), None),
        ("GET", "/api/v1/admin/users/ada/devices".into(), None),
        ("POST", "/api/v1/admin/users/ada/deactivate".into(), None),
        ("POST", "/api/v1/admin/users/ada/reactivate".into(), None),
        (
            "PUT",
            "/api/v1/admin/users/bob/admin".into(),
            Some(json!({"admin": true})),
        ),
        (
            "POST",
            "/api/v1/admin/users/ada/password-reset".into(),
            None,
        ),
        (
            "DELETE",
            format!("/api/v1/admin/devices/{bob_device}"),
            None,
        ),
        (
            "POST",
            "/api/v1/admin/invitations".into(),
            Some(json!({"username": "eve"})),
        ),
        ("GET", "/api/v1/admin/invitations".into(), None),
        ("DELETE", "/api/v1/admin/invitations/x".into(), None),
        ("GET", "/api/v1/admin/policy".into(), None),
        (
            "POST",
            "/api/v1/admin/policy/check".into(),
            Some(json!({"document": "policy_version = 1"})),
        ),
        ("GET", "/api/v1/admin/policy/revisions".into(), None),
        ("GET", "/api/v1/admin/audit".into(), None),
        ("GET", "/api/v1/admin/audit/verify".into(), None),
        ("GET", "/api/v1/admin/audit/export".into(), None),
        ("GET", "/api/v1/admin/compliance".into(), None),
        ("GET", "/api/v1/admin/health".into(), None),
    ] {
        let r = h.call(method, &path, Some(&bob), body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "admin_only"),
            "{method} {path}"
        );
        let r = h.call(method, &path, None, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a session"
        );
    }
    assert_eq!(audit_events(&h).await.len(), before, "nothing was written");
    let bob_user = h
        .state
        .store
        .user_by_username("bob")
        .await
        .unwrap()
        .unwrap();
    assert!(!bob_user.is_admin);
    assert!(
        h.state
            .store
            .pending_invitations(0)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_invitation_creates_the_account_once_and_only_before_it_expires() {
    let h = Harness::new().await;
    let ada = admin(&h, "ada").await;
    let r = h
        .call(
            "POST",
            "/api/v1/admin/invitations",
            Some(&ada),
            Some(json!({"username": " Cecilia "})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["username"], "cecilia", "normalised");
    assert_eq!(r.body["kind"], "invite");
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(r.body["link"], format!("/invite#{token}"));
    // The token is not stored, only its hash; the pending list never shows it.
    let listed = h
        .call("GET", "/api/v1/admin/invitations", Some(&ada), None)
        .await;
    assert_eq!(listed.body["invitations"][0]["username"], "cecilia");
    assert_eq!(listed.body["invitations"][0]["created_by"], "ada");
    assert!(!listed.body.to_string().contains(&token));
    // The name is reserved while the invitation is pending.
    for name in ["cecilia", "ada"] {
        let r = h
            .call(
                "POST",
                "/api/v1/admin/invitations",
                Some(&ada),
                Some(json!({"username": name})),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "username_taken"),
            "{name}"
        );
    }
    let r = h
        .call(
            "POST",
            "/api/v1/admin/invitations",
            Some(&ada),
            Some(json!({"username": "a b"})),
        )
        .await;
    assert_eq!(r.code(), "invalid_input");

    let info = h
        .call("GET", &format!("/api/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["username"], "cecilia");
    // A too-short password is refused and the link still works.
    let path = format!("/api/v1/invitations/{token}");
    let r = h
        .call("POST", &path, None, Some(json!({"password": "short"})))
        .await;
    assert_eq!(r.code(), "invalid_input");
    assert!(
        h.state
            .store
            .user_by_username("cecilia")
            .await
            .unwrap()
            .is_none()
    );
    let r = h
        .call("POST", &path, None, Some(json!({"password": PW})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["is_admin"], false);
    h.login("cecilia", PW, [7; 32]).await;
    // Once only.
    let r = h
        .call(
            "POST",
            &path,
            None,
            Some(json!({"password": "another password"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "invitation_used")
    );
    let r = h.call("GET", &path, None, None).await;
    assert_eq!(r.code(), "invitation_used");
    let r = h
        .call("GET", "/api/v1/invitations/ting_nonsense", None, None)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::NOT_FOUND, "unknown_invitation")
    );

    // Expired links are refused; withdrawn ones are unknown.
    let issue = |name: &'static str| {
        let h = &h;
        let ada = ada.clone();
        async move {
            let r = h
                .call(
                    "POST",
                    "/api/v1/admin/invitations",
                    Some(&ada),
                    Some(json!({"username": name, "admin": true})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED);
            (
                r.body["id"].as_str().unwrap().to_owned(),
                r.body["token"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (_, late) = issue("dan").await;
    let (withdrawn_id, withdrawn) = issue("erik").await;
    let r = h
        .call(
            "DELETE",
            &format!("/api/v1/admin/invitations/{withdrawn_id}"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = h
        .call(
            "DELETE",
            &format!("/api/v1/admin/invitations/{withdrawn_id}"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.code(), "unknown_invitation");
    let r = h
        .call(
            "POST",
            &format!("/api/v1/invitations/{withdrawn}"),
            None,
            Some(json!({"password": PW})),
        )
        .await;
    assert_eq!(r.code(), "unknown_invitation");
    h.clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
    let r = h
        .call(
            "POST",
            &format!("/api/v1/invitations/{late}"),
            None,
            Some(json!({"password": PW})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::GONE, "invitation_expired")
    );
    assert!(
        h.state
            .store
            .user_by_username("dan")
            .await
            .unwrap()
            .is_none()
    );
    let events = audit_events(&h).await;
    for e in ["invitation_issued", "invitation_withdrawn", "user_created"] {
        assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
    }
}

#[tokio::test]
async fn deactivation_ends_sessions_refuses_sign_in_and_adding_and_is_undone() {
    let h = Harness::new().await;
    let ada = admin(&h, "ada").await;
    h.user("bob", PW).await;
    let (bob, _) = h.login("bob", PW, [2; 32]).await;
    let (bob2, _) = h.login("bob", PW, [3; 32]).await;
    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/bob/deactivate",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["deactivated_at"].is_i64());
    assert_eq!(r.body["active_devices"], 2, "devices stay registered");
    for token in [&bob, &bob2] {
        let r = h.call("GET", "/api/v1/me", Some(token), None).await;
        assert_eq!(r.code(), "invalid_token", "every session ended");
    }
    assert_eq!(
        login_code(&h, "bob", PW, 2).await,
        (StatusCode::FORBIDDEN, "account_deactivated".to_owned())
    );
    assert_eq!(
        login_code(&h, "bob", "wrong password!", 2).await.1,
        "invalid_credentials",
        "a wrong password says nothing about the account's state"
    );
    let r = h
        .call(
            "POST",
            "/api/v1/users/bob/key-packages/claim",
            Some(&ada),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        r.code(),
        "account_deactivated",
        "nobody adds a deactivated account"
    );
    // Not oneself, not the last administrator.
    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/ada/deactivate",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/nobody/deactivate",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.code(), "unknown_user");

    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/bob/reactivate",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["deactivated_at"].is_null());
    h.login("bob", PW, [2; 32]).await;
    let events = audit_events(&h).await;
    assert!(events.iter().any(|e| e == "user_deactivated"));
    assert!(events.iter().any(|e| e == "user_reactivated"));
}

#[tokio::test]
async fn the_last_active_administrator_cannot_be_demoted_or_deactivated() {
    let h = Harness::new().await;
    let ada = admin(&h, "ada").await;
    h.user("bob", PW).await;
    let r = h
        .call(
            "PUT",
            "/api/v1/admin/users/ada/admin",
            Some(&ada),
            Some(json!({"admin": false})),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "last_admin"));
    let r = h
        .call(
            "PUT",
            "/api/v1/admin/users/bob/admin",
            Some(&ada),
            Some(json!({"admin": true})),
        )
        .await;
    assert_eq!(r.body["is_admin"], true);
    let (bob, _) = h.login("bob", PW, [2; 32]).await;
    // Now bob may act, and ada may step down.
    let r = h
        .call(
            "PUT",
            "/api/v1/admin/users/ada/admin",
            Some(&bob),
            Some(json!({"admin": false})),
        )
        .await;
    assert_eq!(r.body["is_admin"], false);
    let r = h.call("GET", "/api/v1/admin/users", Some(&ada), None).await;
    assert_eq!(
        r.code(),
        "admin_only",
        "the role is checked on every request"
    );
    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/bob/deactivate",
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(r.code(), "invalid_input");
    let r = h
        .call(
            "PUT",
            "/api/v1/admin/users/bob/admin",
            Some(&bob),
            Some(json!({"admin": false})),
        )
        .await;
    assert_eq!(r.code(), "last_admin");
    let events = audit_events(&h).await;
    assert!(events.iter().any(|e| e == "admin_granted"));
    assert!(events.iter().any(|e| e == "admin_revoked"));
}

#[tokio::test]
async fn a_password_reset_link_sets_a_new_password_and_ends_sessions() {
    let h = Harness::new().await;
    let ada = admin(&h, "ada").await;
    h.user("bob", PW).await;
    let (bob, _) = h.login("bob", PW, [2; 32]).await;
    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/bob/password-reset",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["kind"], "password_reset");
    let token = r.body["token"].as_str().unwrap().to_owned();
    // Nothing changes until the link is used.
    assert_eq!(
        h.call("GET", "/api/v1/me", Some(&bob), None).await.status,
        StatusCode::OK
    );
    let info = h
        .call("GET", &format!("/api/v1/invitations/{token}"), None, None)
        .await;
    assert_eq!(
        (info.body["username"].as_str(), info.body["kind"].as_str()),
        (Some("bob"), Some("password_reset"))
    );
    let new_pw = "a brand new passphrase";
    let r = h
        .call(
            "POST",
            &format!("/api/v1/invitations/{token}"),
            None,
            Some(json!({"password": new_pw})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        h.call("GET", "/api/v1/me", Some(&bob), None).await.code(),
        "invalid_token"
    );
    assert_eq!(login_code(&h, "bob", PW, 2).await.1, "invalid_credentials");
    h.login("bob", new_pw, [2; 32]).await;
    let r = h
        .call(
            "POST",
            "/api/v1/admin/users/nobody/password-reset",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.code(), "unknown_user");
}

#[tokio::test]
async fn accounts_are_paged_and_searched_and_devices_listed_and_revoked() {
    let h = Harness::new().await;
    let ada = admin(&h, "ada").await;
    for i in 0..12 {
        h.user(&format!("user{i:02}"), PW).await;
    }
    let (_, dev) = h.login("user03", PW, [9; 32]).await;
    let r = h
        .call("GET", "/api/v1/admin/users?limit=5", Some(&ada), None)
        .await;
    assert_eq!(r.body["total"], 13);
    assert_eq!(r.body["users"].as_array().unwrap().len(), 5);
    assert_eq!(r.body["management"], "local");
    let next = r.body["next"].as_str().unwrap().to_owned();
    let r = h
        .call(
            "GET",
            &format!("/api/v1/admin/users?limit=5&after={next}"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.body["users"][0]["username"], "user04");
    let r = h
        .call("GET", "/api/v1/admin/users?q=USER1", Some(&ada), None)
        .await;
    assert_eq!(r.body["total"], 2);
    assert!(r.body["next"].is_null());
    for bad in ["limit=0", "limit=201", "limit=x"] {
        let r = h
            .call(
                "GET",
                &format!("/api/v1/admin/users?{bad}"),
                Some(&ada),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = h
        .call(
            "GET",
            "/api/v1/admin/users/user03/devices",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.body["devices"][0]["id"], dev);
    assert!(r.body["devices"][0]["last_seen_at"].is_i64());
    assert_eq!(r.body["user"]["active_devices"], 1);
    let r = h
        .call(
            "DELETE",
            &format!("/api/v1/admin/devices/{dev}"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.body["revoked"], true);
    let r = h
        .call(
            "DELETE",
            &format!("/api/v1/admin/devices/{dev}"),
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.body["revoked"], false, "already revoked");
    let r = h
        .call(
            "DELETE",
            "/api/v1/admin/devices/not-a-device",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.code(), "unknown_device");
    let r = h
        .call(
            "GET",
            "/api/v1/admin/users/user03/devices",
            Some(&ada),
            None,
        )
        .await;
    assert!(r.body["devices"][0]["revoked_at"].is_i64());
    assert_eq!(r.body["user"]["active_devices"], 0);
}
