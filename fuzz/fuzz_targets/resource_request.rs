//! Arbitrary bytes as the JSON request Concourse writes on the resource's
//! stdin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigtag::resource::request;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = request::parse(data) {
        let _ = req.source.shown_uri();
        let _ = req.source.wants("v1.0.0");
        let _ = req.source.parse_rule("1 of humans", "params.require");
    }
});
