//! Incoming MLS messages for a live two-member group (`Client::handle_message`); both devices
//! certified by their users' master keys, so commits reach the certificate checks.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use ting_e2ee::{Client, ClientConfig, GroupId};

fn member() -> &'static Mutex<(Client, GroupId)> {
    static MEMBER: OnceLock<Mutex<(Client, GroupId)>> = OnceLock::new();
    MEMBER.get_or_init(|| {
        let gid = GroupId::new(*b"fuzz").unwrap();
        let mut alice = Client::new("alice", ClientConfig::default()).unwrap();
        let mut bob = Client::new("bob", ClientConfig::default()).unwrap();
        alice.create_identity(b"alice-device", 0).unwrap();
        bob.create_identity(b"bob-device", 0).unwrap();
        alice.create_group(&gid).unwrap();
        let kp = bob.key_packages(1).unwrap().remove(0);
        let b = alice.add_members(&gid, &[kp]).unwrap();
        alice.merge_pending_commit(&gid, 0).unwrap();
        bob.join(b.welcome.as_deref().unwrap()).unwrap();
        Mutex::new((bob, gid))
    })
}

fuzz_target!(|data: &[u8]| {
    let mut guard = member().lock().unwrap();
    let (bob, gid) = &mut *guard;
    let gid = gid.clone();
    let _ = bob.handle_message(&gid, data, 0);
});
