//! Arbitrary bytes as a signer's certificate file, then a signed layer
//! checked against whatever trust root they made.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigtag::trust::Trust;
use sigtag::{object, verify};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const SIGNED: &[u8] = include_bytes!("../seeds/tag_object/alice-signed.tag");

fuzz_target!(|data: &[u8]| {
    static LAYER: OnceLock<sigtag::chain::Layer> = OnceLock::new();
    let layer =
        LAYER.get_or_init(|| common::layer(object::parse(SIGNED).expect("seed layer parses")));

    // The fuzzed file is "alice"; bob's real certificate sits next to it so
    // that one key held by two signers is exercised too.
    let sources = vec![
        common::source("alice", data),
        common::source("bob", common::BOB),
    ];
    let Ok(trust) = Trust::build(
        sources,
        common::humans(),
        BTreeMap::from([("prod".to_string(), "1 of humans".to_string())]),
        "fuzz",
    ) else {
        return;
    };
    assert!(!trust.signers()[0].keys.openpgp().is_empty());
    assert!(trust.signers()[0].keys.openpgp().len() <= sigtag::trust::MAX_CERTS_PER_SIGNER);
    let outcomes = verify::check_layer(layer, &trust, common::now());
    assert!(!outcomes.is_empty());
});
