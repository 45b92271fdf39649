//! A tiny in-memory delivery service for driving several clients: it accepts one commit per
//! epoch (the first) and fans messages out to every other member.

#![allow(dead_code, unreachable_pub)]

use ting_e2ee::{Client, ClientConfig, CommitBundle, Envelope, GroupId, Received};

pub fn client(user: &str) -> Client {
    let mut c = Client::new(user, ClientConfig::default()).expect("client");
    c.create_identity(format!("{user}-device").as_bytes(), 0)
        .expect("identity");
    c
}

/// A new device of `existing`'s user, linked (certified) by `existing`.
pub fn linked_device(existing: &Client, device_id: &str) -> Client {
    let mut c = Client::new(existing.user_id(), ClientConfig::default()).expect("client");
    let request = c
        .link_request(device_id.as_bytes(), 1, 60_000)
        .expect("request");
    let code = c.link_code("rendezvous").expect("code");
    let response = existing.link_approve(&code, &request, 2).expect("approve");
    c.link_complete(&response, 3).expect("complete");
    c
}

pub fn group_id() -> GroupId {
    GroupId::new(*b"room").unwrap()
}

/// `n` clients (users `u0..un`), all in one group created by `u0`, added in one commit.
pub fn group_of(n: usize) -> (GroupId, Vec<Client>) {
    let gid = group_id();
    let mut clients: Vec<Client> = (0..n).map(|i| client(&format!("u{i}"))).collect();
    clients[0].create_group(&gid).unwrap();
    if n > 1 {
        let kps: Vec<Vec<u8>> = clients[1..]
            .iter_mut()
            .map(|c| c.key_packages(1).unwrap().remove(0))
            .collect();
        let bundle = clients[0].add_members(&gid, &kps).unwrap();
        clients[0].merge_pending_commit(&gid, 0).unwrap();
        let welcome = bundle.welcome.unwrap();
        for c in &mut clients[1..] {
            c.join(&welcome).unwrap();
        }
    }
    (gid, clients)
}

/// Delivers a commit from `from` (already merged there) to everyone else; returns their results.
pub fn deliver_commit(
    gid: &GroupId,
    clients: &mut [Client],
    from: usize,
    bundle: &CommitBundle,
    now: u64,
) -> Vec<Received> {
    let mut out = Vec::new();
    for (i, c) in clients.iter_mut().enumerate() {
        if i != from && c.has_group(gid) {
            out.push(c.handle_message(gid, &bundle.commit, now).unwrap());
        }
    }
    out
}

/// Sends a text from `from` and checks everyone else reads it.
pub fn chat_round(gid: &GroupId, clients: &mut [Client], from: usize, text: &str) {
    let ct = clients[from]
        .encrypt_message(gid, &Envelope::text(text).unwrap())
        .unwrap();
    let sender = clients[from].user_id().to_owned();
    for (i, c) in clients.iter_mut().enumerate() {
        if i == from {
            continue;
        }
        match c.handle_message(gid, &ct, 0).unwrap() {
            Received::Message(m) => {
                assert_eq!(m.sender.user_id, sender);
                assert_eq!(
                    m.envelope.body,
                    ting_e2ee::Body::Text {
                        body: text.into(),
                        reply_to: None
                    }
                );
            }
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// Asserts all clients agree on epoch and epoch authenticator.
pub fn assert_in_sync(gid: &GroupId, clients: &[Client]) {
    let epoch = clients[0].epoch(gid).unwrap();
    let auth = clients[0].epoch_authenticator(gid).unwrap();
    for c in clients.iter().filter(|c| c.has_group(gid)) {
        assert_eq!(c.epoch(gid).unwrap(), epoch, "{}", c.user_id());
        assert_eq!(c.epoch_authenticator(gid).unwrap(), auth, "{}", c.user_id());
    }
}
