use super::*;

const GOOD: &str = r#"
policy_version = 1
[features]
file_sharing = true
max_file_bytes = 1000
[retention.room]
default_secs = 3600
max_secs = 86400
[permissions]
create_rooms = "admins"
[mls]
allowed_ciphersuites = [1]
"#;

#[test]
fn a_good_policy_parses() {
    let p = Policy::parse(GOOD).unwrap();
    assert_eq!(p.permissions.create_rooms, Who::Admins);
    assert_eq!(p.retention.room.max_secs, 86400);
    assert_eq!(p.retention.direct, RetentionBounds::default());
    assert_eq!(Policy::parse(&p.to_toml()).unwrap(), p);
    assert!(!p.for_client(1, false).may_create_rooms);
    assert!(p.for_client(1, true).may_create_rooms);
}

fn refused(text: &str) -> String {
    Policy::parse(text).unwrap_err()
}

#[test]
fn bad_policies_are_refused_with_the_reason() {
    assert!(refused("policy_version = 1\ne2ee = false").contains("end-to-end encryption"));
    assert!(refused("policy_version = 1\n[features]\ne2ee = false").contains("features.e2ee"));
    assert!(refused("policy_version = 2").contains("not supported"));
    assert!(refused("[features]\nmeetings = true").contains("policy_version"));
    assert!(refused("policy_version = 1\n[features]\nrecording = true").contains("not available"));
    assert!(
        refused("policy_version = 1\n[features]\nphone_dial_in = true").contains("not available")
    );
    assert!(
        refused("policy_version = 1\n[mls]\nallowed_ciphersuites = [1, 3]")
            .contains("0x0003 is not supported")
    );
    assert!(refused("policy_version = 1\n[mls]\nallowed_ciphersuites = []").contains("at least"));
    assert!(
        refused("policy_version = 1\n[retention.room]\ndefault_secs = 5")
            .contains("retention.room")
    );
    assert!(
        refused("policy_version = 1\n[retention.direct]\nmax_secs = 600\ndefault_secs = 0")
            .contains("retention.direct.default_secs")
    );
    assert!(refused("policy_version = 1\n[features]\nbogus = 1").contains("bogus"));
    assert!(
        refused("policy_version = 1\n[permissions]\ncreate_rooms = \"nobody\"").contains("nobody")
    );
    assert!(refused("policy_version = ").contains("TOML"));
}

#[test]
fn config_values_are_the_defaults() {
    let mut config = Config::default();
    config.delivery.default_retention_secs = 7200;
    config.files.max_blob_bytes = 5;
    let p = Policy::from_config(&config);
    assert_eq!(p.retention.room.default_secs, 7200);
    assert_eq!(p.features.max_file_bytes, 5);
    assert!(p.validate().is_ok());
    assert!(!p.features.guest_access && !p.features.federation);
}
