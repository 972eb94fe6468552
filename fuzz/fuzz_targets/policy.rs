//! Arbitrary text as a rule and as a policy.toml.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigtag::rule::Rule;
use sigtag::trust::{self, Trust};
use std::collections::BTreeSet;

/// A deterministic, group-dependent set of signers that count.
fn counted(group: &str) -> BTreeSet<String> {
    let n = group
        .bytes()
        .fold(0usize, |a, b| a.wrapping_add(b as usize))
        % 4;
    (0..n).map(|i| format!("s{i}")).collect()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Ok(rule) = Rule::parse(&text) {
        let _ = rule.atoms();
        let shown = rule.to_string();
        // What is shown parses back to a rule with the same meaning.
        let again = Rule::parse(&shown).expect("a shown rule parses");
        assert_eq!(again.to_string(), shown);
        let (a, b) = (rule.eval(&counted), again.eval(&counted));
        assert_eq!(a.holds, b.holds);
        assert_eq!(a.missing().is_none(), a.holds);
        let _ = a.missing_explained();
    }

    if let Ok((groups, environments)) = trust::parse_policy(&text, "policy.toml") {
        let sources = vec![
            common::source("alice", common::ALICE),
            common::source("bob", common::BOB),
        ];
        if let Ok(t) = Trust::build(sources, groups, environments, "policy.toml") {
            for (env, _) in t.environments() {
                let _ = t.rule_for(env);
            }
        }
    }
});
