//! What the fuzz targets share: a small fixed trust root and a valid layer.
#![allow(dead_code)]

use sigtag::chain::Layer;
use sigtag::object::TagObject;
use sigtag::trust::{CertSource, Trust};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Public certificates of two signers (ed25519 and rsa2048, made by gpg).
pub const ALICE: &[u8] = include_bytes!("../../fixtures/alice.asc");
pub const BOB: &[u8] = include_bytes!("../../fixtures/bob.asc");
/// The payload of a layer git made and alice signed (everything before the
/// armored block of `seeds/tag_object/alice-signed.tag`).
pub const PAYLOAD: &[u8] = include_bytes!("../../fixtures/layer.payload");

/// A fixed "now": one day after the fixture layers were signed, so runs are
/// reproducible.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_371_096 + 86_400)
}

pub fn source(name: &str, bytes: &[u8]) -> CertSource {
    CertSource {
        name: name.to_string(),
        origin: format!("fuzz/{name}.asc"),
        bytes: bytes.to_vec(),
    }
}

pub fn humans() -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([(
        "humans".to_string(),
        vec!["alice".to_string(), "bob".to_string()],
    )])
}

/// alice and bob, both humans; prod needs both.
pub fn trust() -> &'static Trust {
    static TRUST: OnceLock<Trust> = OnceLock::new();
    TRUST.get_or_init(|| {
        Trust::build(
            vec![source("alice", ALICE), source("bob", BOB)],
            humans(),
            BTreeMap::from([("prod".to_string(), "2 of humans".to_string())]),
            "fuzz",
        )
        .expect("the fixture trust root builds")
    })
}

pub fn layer(object: TagObject) -> Layer {
    Layer {
        number: 1,
        oid: "0".repeat(40),
        object,
    }
}

/// Properties every parsed layer has.
pub fn check_object(raw: &[u8], object: &TagObject) {
    assert_eq!(object.raw(), raw);
    assert!(raw.starts_with(object.payload()));
    assert!(raw.len() <= sigtag::object::MAX_OBJECT_SIZE);
}
