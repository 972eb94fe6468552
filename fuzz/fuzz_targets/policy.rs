//! Arbitrary text as a rule and as a policy.toml.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use sigtag::message::TestedFrom;
use sigtag::rule::{Authored, Facts, Rule, TransitionFacts};
use sigtag::trust::{self, Trust};
use std::collections::{BTreeMap, BTreeSet};

/// A deterministic, group-dependent set of signers that count.
fn counted(group: &str) -> BTreeSet<String> {
    let n = group
        .bytes()
        .fold(0usize, |a, b| a.wrapping_add(b as usize))
        % 4;
    (0..n).map(|i| format!("s{i}")).collect()
}

/// A deterministic transition drawn from the input: a few commits whose
/// authors are some of the signers, a base or none, and what each signer's
/// layers tested.
fn transition(data: &[u8]) -> TransitionFacts {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let oid = |c: &str| git2::Oid::from_str(&c.repeat(40)).expect("40 hex digits");
    let base = (byte(0) % 2 == 0).then(|| ("v1".to_string(), oid("b")));
    let range = (0..byte(1) % 5)
        .map(|i| Authored {
            commit: format!("{i:040}"),
            author: format!("s{} <s@x>", byte(2 + i) % 5),
            signers: (byte(2 + i) % 5 < 4)
                .then(|| format!("s{}", byte(2 + i) % 5))
                .into_iter()
                .collect(),
        })
        .collect();
    let tested = (0..4)
        .map(|i| {
            let from = match byte(8 + i) % 3 {
                0 => TestedFrom::Nothing,
                1 => TestedFrom::Commit(oid("b")),
                _ => TestedFrom::Commit(oid("c")),
            };
            (format!("s{i}"), BTreeSet::from([from]))
        })
        .collect();
    TransitionFacts {
        base,
        range: Some(range),
        tested,
        tags: BTreeMap::new(),
    }
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

        // With the facts of a transition.
        let facts = transition(data);
        let with = rule.eval(Facts {
            counted: &counted,
            transition: Some(&facts),
        });
        assert_eq!(with.missing().is_none(), with.holds);
        let _ = with.missing_explained();
        if !rule.has_transitions() {
            assert_eq!(with.holds, a.holds, "a plain rule ignores transitions");
        }
        // An empty range asks no more than the range: what holds over the
        // range holds over no commit (the verdict relies on this to skip
        // reading ranges).
        let empty = TransitionFacts {
            range: Some(Vec::new()),
            ..facts.clone()
        };
        let none = rule.eval(Facts {
            counted: &counted,
            transition: Some(&empty),
        });
        assert!(!with.holds || none.holds, "{shown}");
        // Without the transition no transition atom holds, so what holds
        // then holds with it too.
        assert!(!a.holds || with.holds, "{shown}");
    }

    if let Ok(policy) = trust::read_policy(&text, "policy.toml") {
        let sources = vec![
            common::source("alice", common::ALICE),
            common::source("bob", common::BOB),
        ];
        if let Ok(t) = Trust::build_policy(sources, policy, "policy.toml") {
            for (env, _) in t.environments() {
                let _ = t.rule_for(env);
                let _ = t.since_for(env);
                if let Some(e) = t.emergency_for(env) {
                    assert!(e.within > std::time::Duration::ZERO);
                    assert!(e.within <= trust::MAX_REVIEW_WITHIN);
                }
            }
            let _ = t.signers_with_email("alice@example.org");
        }
    }
    let _ = trust::parse_policy(&text, "policy.toml");
    // A duration that parses is one a policy can hold.
    if let Some(d) = trust::duration(&text) {
        assert!(d > std::time::Duration::ZERO && d <= trust::MAX_REVIEW_WITHIN);
    }
});
