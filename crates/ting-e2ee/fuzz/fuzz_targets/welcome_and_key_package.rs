//! Welcomes (`Client::join`) and key packages (`Client::inspect_key_package`) for a certified
//! device (key packages carry device certificates; a welcome's leaves are checked).
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use ting_e2ee::{Client, ClientConfig};

fn client() -> &'static Mutex<Client> {
    static CLIENT: OnceLock<Mutex<Client>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut c = Client::new("carol", ClientConfig::default()).unwrap();
        c.create_identity(b"carol-device", 0).unwrap();
        c.key_packages(2).unwrap();
        c.last_resort_key_package().unwrap();
        Mutex::new(c)
    })
}

fuzz_target!(|data: &[u8]| {
    let mut c = client().lock().unwrap();
    let _ = c.inspect_key_package(data);
    if let Ok(joined) = c.join(data) {
        // Keep the client reusable.
        let _ = c.delete_group(&joined.group_id);
    }
});
