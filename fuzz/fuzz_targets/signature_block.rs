//! Arbitrary bytes as the armored signature block of an otherwise valid
//! layer. The first byte picks how they are wrapped: as binary packets
//! armored here (so the fuzzer works on packet structure), or as the raw
//! text between the BEGIN and END lines.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use openpgp::armor::{Kind, Writer};
use sequoia_openpgp as openpgp;
use sigtag::{object, verify};
use std::io::Write;

const BEGIN: &[u8] = b"-----BEGIN PGP SIGNATURE-----\n";
const END: &[u8] = b"-----END PGP SIGNATURE-----\n";

fn armored(packets: &[u8]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), Kind::Signature).expect("armor writer");
    w.write_all(packets).expect("armor write");
    w.finalize().expect("armor finalize")
}

fn wrapped(text: &[u8]) -> Vec<u8> {
    let mut block = BEGIN.to_vec();
    block.push(b'\n');
    block.extend_from_slice(text);
    if !text.ends_with(b"\n") {
        block.push(b'\n');
    }
    block.extend_from_slice(END);
    block
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let block = if mode & 1 == 0 {
        armored(rest)
    } else {
        wrapped(rest)
    };
    let direct = verify::read_signatures(&block);
    if let Ok(sigs) = &direct {
        assert!(sigs.len() <= sigtag::problem::MAX_SIGNATURES_PER_LAYER);
    }

    let mut raw = common::PAYLOAD.to_vec();
    raw.extend_from_slice(&block);
    let Ok(obj) = object::parse(&raw) else {
        return;
    };
    common::check_object(&raw, &obj);
    assert_eq!(obj.payload(), common::PAYLOAD);
    let layer = common::layer(obj);
    let outcomes = verify::check_layer(&layer, common::trust(), common::now());
    assert!(!outcomes.is_empty());
    // A signature may only count when its packets could be read.
    if direct.is_err() {
        assert!(outcomes
            .iter()
            .all(|o| matches!(o, verify::Outcome::Fails(_))));
    }
});
