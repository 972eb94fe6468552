//! Arbitrary bytes as one layer: the strict parser, its message's
//! `Sigtag-Tested-From` trailer, then the signature check of whatever
//! parsed against a fixed trust root.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigtag::{object, verify};

fuzz_target!(|data: &[u8]| {
    let _ = object::peek_target(data);
    let Ok(obj) = object::parse(data) else {
        return;
    };
    common::check_object(data, &obj);
    // The trailer of the message: a value read is a full id or none.
    if let Ok(Some(sigtag::message::TestedFrom::Commit(c))) =
        sigtag::message::tested_from(&obj.message)
    {
        assert!(sigtag::names::is_object_id(&c.to_string()), "{c}");
    }
    let layer = common::layer(obj);
    let outcomes = verify::check_layer(&layer, common::trust(), common::now());
    assert!(!outcomes.is_empty());
});
