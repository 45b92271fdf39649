//! The administration API's policy, audit, compliance and health routes over HTTP.

mod common;

use axum::http::StatusCode;
use common::Harness;
use serde_json::json;

const PW: &str = "correct horse battery";

async fn admin(h: &Harness) -> String {
    h.user("ada", PW).await;
    let user = h
        .state
        .store
        .user_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    h.state.store.set_admin(user.id, true).await.unwrap();
    h.login("ada", PW, [1; 32]).await.0
}

#[tokio::test]
async fn policy_checks_name_the_line_and_the_effect_and_history_is_kept() {
    let h = Harness::new().await;
    let ada = admin(&h).await;
    let check = |doc: &'static str| {
        let (h, ada) = (&h, ada.clone());
        async move {
            h.call(
                "POST",
                "/api/v1/admin/policy/check",
                Some(&ada),
                Some(json!({ "document": doc })),
            )
            .await
            .body
        }
    };
    // Syntax, type and validation errors each name their line; nothing is stored.
    for (doc, line, reason) in [
        (
            "policy_version = 1\n[features]\nfile_sharing = \n",
            3,
            "TOML",
        ),
        (
            "policy_version = 1\n\n[features]\nfile_sharing = \"no\"\n",
            4,
            "invalid",
        ),
        (
            "policy_version = 1\n[features]\nmeetings = true\nrecording = true\n",
            4,
            "recording",
        ),
        ("policy_version = 2\n", 1, "policy_version"),
        (
            "policy_version = 1\n[retention.room]\ndefault_secs = 10\n",
            3,
            "retention.room",
        ),
    ] {
        let r = check(doc).await;
        assert_eq!(r["valid"], false, "{doc}");
        assert_eq!(r["problems"][0]["line"], line, "{doc}: {r}");
        assert!(
            r["problems"][0]["message"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{r}"
        );
        let put = h
            .call(
                "PUT",
                "/api/v1/admin/policy",
                Some(&ada),
                Some(json!({ "document": doc })),
            )
            .await;
        assert_eq!(
            (put.status, put.code()),
            (StatusCode::BAD_REQUEST, "invalid_policy")
        );
        assert_eq!(put.body["line"], line, "the refusal names the line too");
    }
    assert!(h.state.store.current_policy().await.unwrap().is_none());

    let off = "policy_version = 1\n[features]\nfile_sharing = false\nscreen_share = false\n";
    let r = check(off).await;
    assert_eq!(r["valid"], true, "{r}");
    let effects: Vec<(String, serde_json::Value)> = r["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["setting"].as_str().unwrap().to_owned(),
                e["after"].clone(),
            )
        })
        .collect();
    assert!(
        effects.contains(&("file_sharing".into(), json!(false))),
        "{effects:?}"
    );
    assert!(
        effects.contains(&("screen_share".into(), json!(false))),
        "{effects:?}"
    );
    assert!(
        effects
            .iter()
            .all(|(k, _)| k != "revision" && k != "meetings")
    );
    assert!(
        h.state.store.current_policy().await.unwrap().is_none(),
        "a check saves nothing"
    );

    for doc in [off, "policy_version = 1\n"] {
        let r = h
            .call(
                "PUT",
                "/api/v1/admin/policy",
                Some(&ada),
                Some(json!({ "document": doc })),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    let r = h
        .call("GET", "/api/v1/admin/policy/revisions", Some(&ada), None)
        .await;
    let revs = r.body["revisions"].as_array().unwrap();
    assert_eq!(revs.len(), 2);
    assert_eq!(
        (revs[0]["revision"].as_u64(), revs[1]["revision"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(revs[1]["document"], off);
    assert_eq!(revs[0]["set_by"], "ada");
}

#[tokio::test]
async fn the_audit_log_is_searched_verified_and_exported() {
    let h = Harness::new().await;
    let ada = admin(&h).await;
    h.user("bob", PW).await;
    let r = h
        .call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(common::login_body("bob", "wrong password", [2; 32])),
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");
    h.login("bob", PW, [2; 32]).await;
    h.call(
        "PUT",
        "/api/v1/admin/policy",
        Some(&ada),
        Some(json!({"document": "policy_version = 1\n"})),
    )
    .await;

    let r = h.call("GET", "/api/v1/admin/audit", Some(&ada), None).await;
    let records = r.body["records"].as_array().unwrap();
    assert_eq!(records[0]["event"], "policy_changed", "newest first");
    assert_eq!(records[0]["actor_name"], "ada");
    assert!(
        r.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "user_deactivated")
    );
    let r = h
        .call(
            "GET",
            "/api/v1/admin/audit?event=login_succeeded&actor=bob",
            Some(&ada),
            None,
        )
        .await;
    let records = r.body["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["target_name"], "bob");
    let r = h
        .call(
            "GET",
            "/api/v1/admin/audit?event=login_failed",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.body["records"][0]["details"]["reason"], "wrong_password");
    let r = h
        .call("GET", "/api/v1/admin/audit?actor=nobody", Some(&ada), None)
        .await;
    assert!(r.body["records"].as_array().unwrap().is_empty());
    let r = h
        .call("GET", "/api/v1/admin/audit?event=made_up", Some(&ada), None)
        .await;
    assert_eq!(r.code(), "invalid_input");
    let r = h
        .call("GET", "/api/v1/admin/audit?limit=2", Some(&ada), None)
        .await;
    let before = r.body["next_before"].as_u64().unwrap();
    let r = h
        .call(
            "GET",
            &format!("/api/v1/admin/audit?limit=2&before={before}"),
            Some(&ada),
            None,
        )
        .await;
    assert!(r.body["records"][0]["seq"].as_u64().unwrap() < before);

    let v = h
        .call("GET", "/api/v1/admin/audit/verify", Some(&ada), None)
        .await;
    assert_eq!(v.body["ok"], true, "{:?}", v.body);
    let head = v.body["head_hash"].as_str().unwrap().to_owned();
    assert_eq!(head.len(), 64);
    let newest = h
        .call("GET", "/api/v1/admin/audit?limit=1", Some(&ada), None)
        .await;
    assert_eq!(
        newest.body["records"][0]["hash"],
        head.as_str(),
        "the head is the newest record"
    );
    assert_eq!(v.body["head_seq"], newest.body["records"][0]["seq"]);

    let x = h
        .call(
            "GET",
            "/api/v1/admin/audit/export?event=login_succeeded",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(x.headers["content-type"], "application/x-ndjson");
    let text = x.body.as_str().unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "ada's and bob's logins, oldest first");
    assert!(lines[0]["seq"].as_u64() < lines[1]["seq"].as_u64());
    let r = h
        .call(
            "GET",
            "/api/v1/admin/audit?event=audit_exported",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(
        r.body["records"][0]["details"]["records"], 2,
        "the export is audited"
    );
}

#[tokio::test]
async fn compliance_and_health_report_the_live_server_and_nothing_of_content() {
    let h = Harness::new().await;
    let ada = admin(&h).await;
    let r = h
        .call("GET", "/api/v1/admin/compliance", Some(&ada), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["title"], "Ting compliance report");
    let sections = r.body["sections"].as_array().unwrap();
    assert!(sections.iter().any(|s| s["heading"] == "Summary"));
    assert!(
        sections.iter().any(|s| s["table"].is_object()),
        "the inventory is a table"
    );
    for (format, mime, start) in [
        (
            "markdown",
            "text/markdown; charset=utf-8",
            "# Ting compliance report",
        ),
        ("html", "text/html; charset=utf-8", "<!doctype html>"),
    ] {
        let r = h
            .call(
                "GET",
                &format!("/api/v1/admin/compliance?format={format}"),
                Some(&ada),
                None,
            )
            .await;
        assert_eq!(r.headers["content-type"], mime);
        assert!(
            r.headers["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        assert!(r.body.as_str().unwrap().starts_with(start), "{format}");
    }
    let r = h
        .call(
            "GET",
            "/api/v1/admin/compliance?format=pdf",
            Some(&ada),
            None,
        )
        .await;
    assert_eq!(r.code(), "invalid_input");

    let r = h
        .call("GET", "/api/v1/admin/health", Some(&ada), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["store_backend"], "sqlite");
    assert_eq!(r.body["store_ok"], true);
    assert_eq!(r.body["users"], 1);
    assert_eq!(r.body["web_bundle_hash"], h.state.web.hash_hex());
    assert_eq!(r.body["meetings"], 0);
    let udp = &r.body["media_ports"][0];
    assert_eq!(udp["protocol"], "udp");
    assert_eq!(
        udp["reachable"], true,
        "the media socket answers its own probe: {udp}"
    );
}

#[tokio::test]
async fn every_administration_route_is_in_the_openapi_document() {
    let h = Harness::new().await;
    let r = h.call("GET", "/api/v1/openapi.json", None, None).await;
    let paths = &r.body["paths"];
    for (path, method) in [
        ("/api/v1/admin/users", "get"),
        ("/api/v1/admin/users/{username}/devices", "get"),
        ("/api/v1/admin/users/{username}/deactivate", "post"),
        ("/api/v1/admin/users/{username}/reactivate", "post"),
        ("/api/v1/admin/users/{username}/admin", "put"),
        ("/api/v1/admin/users/{username}/password-reset", "post"),
        ("/api/v1/admin/devices/{id}", "delete"),
        ("/api/v1/admin/invitations", "post"),
        ("/api/v1/admin/invitations", "get"),
        ("/api/v1/admin/invitations/{id}", "delete"),
        ("/api/v1/invitations/{token}", "get"),
        ("/api/v1/invitations/{token}", "post"),
        ("/api/v1/admin/policy", "get"),
        ("/api/v1/admin/policy", "put"),
        ("/api/v1/admin/policy/check", "post"),
        ("/api/v1/admin/policy/revisions", "get"),
        ("/api/v1/admin/audit", "get"),
        ("/api/v1/admin/audit/verify", "get"),
        ("/api/v1/admin/audit/export", "get"),
        ("/api/v1/admin/compliance", "get"),
        ("/api/v1/admin/health", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "openapi lacks {method} {path}"
        );
    }
    for schema in [
        "AdminUserPage",
        "IssuedInvitation",
        "PolicyCheck",
        "AuditPage",
        "AdminHealth",
    ] {
        assert!(
            r.body["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}
