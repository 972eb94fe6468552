//! Arbitrary bytes as the SSH signature of an otherwise valid layer. The
//! first byte picks how they are wrapped: even, the rest is the sshsig
//! blob, armored here (so the fuzzer works on the blob's structure); odd,
//! the rest is the text between the BEGIN and END lines.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigtag::verify::ssh::sshsig;
use sigtag::{object, verify};

const BEGIN: &[u8] = b"-----BEGIN SSH SIGNATURE-----\n";
const END: &[u8] = b"-----END SSH SIGNATURE-----\n";

fn wrapped(text: &[u8]) -> Vec<u8> {
    let mut block = BEGIN.to_vec();
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
        let block = sshsig::armor(rest);
        // The armor adds nothing: within the size bound, the block parses
        // to what the blob does, or both are refused (an empty blob is
        // refused as empty armor, not as a truncated magic).
        if block.len() <= sshsig::MAX_SSH_SIGNATURE_SIZE {
            assert_eq!(sshsig::parse(&block).ok(), sshsig::parse_blob(rest).ok());
        }
        block
    } else {
        wrapped(rest)
    };
    let direct = sshsig::parse(&block);

    let mut raw = common::PAYLOAD.to_vec();
    raw.extend_from_slice(&block);
    let Ok(obj) = object::parse(&raw) else {
        return;
    };
    common::check_object(&raw, &obj);
    assert_eq!(obj.payload(), common::PAYLOAD);
    let layer = common::layer(obj);
    let outcomes = verify::check_layer(&layer, common::trust(), common::now());
    assert_eq!(outcomes.len(), 1);
    // No SSH key is trusted here: nothing counts, and a block that does
    // not parse rejects the tag.
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, verify::Outcome::Fails(_))));
    if direct.is_err() {
        assert!(outcomes
            .iter()
            .all(|o| matches!(o, verify::Outcome::Fails(p) if p.rejects_tag())));
    }
});
