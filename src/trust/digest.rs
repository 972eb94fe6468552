//! The trust digest of an environment: the verdict cache's key, and what
//! evidence names as the policy that judged.

use super::EnvironmentPolicy;
use crate::digest::Sha256;
use crate::error::Result;
use std::collections::BTreeMap;

/// The trust digest of an environment's configuration: every input of a verdict except
/// the tag itself and the clock. `policy` holds the environment's rule and
/// every field that can change a verdict (`since`, `emergency`, `review`,
/// `review_within`); `emails` the `[emails]` table; `ssh` the `[ssh]`
/// table and the revoked SSH keys in canonical form, when either is set
/// (so a configuration without them keeps its digest). A field that is absent
/// and one that is set hash differently, so no two configurations share a
/// key.
pub(super) fn trust_digest(
    signers: &[(String, Vec<u8>)],
    groups: &BTreeMap<String, Vec<String>>,
    policy: &EnvironmentPolicy,
    emails: &BTreeMap<String, Vec<String>>,
    ssh: Option<&[u8]>,
    environment: &str,
) -> Result<String> {
    let mut ctx = Sha256::new()?;
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    field(b"sigtag verdict cache");
    field(env!("CARGO_PKG_VERSION").as_bytes());
    let mut sorted: Vec<&(String, Vec<u8>)> = signers.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    field(&(sorted.len() as u64).to_be_bytes());
    for (name, keys) in sorted {
        field(name.as_bytes());
        field(keys);
    }
    field(&(groups.len() as u64).to_be_bytes());
    for (g, members) in groups {
        field(g.as_bytes());
        field(&(members.len() as u64).to_be_bytes());
        for m in members {
            field(m.as_bytes());
        }
    }
    field(policy.require.as_bytes());
    field(environment.as_bytes());
    for (name, value) in [
        ("since", &policy.since),
        ("emergency", &policy.emergency),
        ("review", &policy.review),
        ("review_within", &policy.review_within),
    ] {
        field(name.as_bytes());
        match value {
            Some(text) => {
                field(b"set");
                field(text.as_bytes());
            }
            None => field(b"unset"),
        }
    }
    field(b"emails");
    field(&(emails.len() as u64).to_be_bytes());
    for (signer, list) in emails {
        field(signer.as_bytes());
        field(&(list.len() as u64).to_be_bytes());
        for e in list {
            field(e.as_bytes());
        }
    }
    if let Some(ssh) = ssh {
        field(b"ssh");
        field(ssh);
    }
    ctx.hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(policy: &EnvironmentPolicy, emails: &BTreeMap<String, Vec<String>>) -> String {
        let sources = [("alice".to_string(), b"cert".to_vec())];
        let groups = BTreeMap::from([("humans".to_string(), vec!["alice".to_string()])]);
        trust_digest(&sources, &groups, policy, emails, None, "prod").unwrap()
    }

    #[test]
    fn every_field_changes_the_key() {
        let base = EnvironmentPolicy {
            require: "1 of humans".into(),
            ..Default::default()
        };
        let none = BTreeMap::new();
        let plain = digest(&base, &none);
        let mut seen = vec![plain.clone()];
        let set = |f: fn(&mut EnvironmentPolicy, String), v: &str| {
            let mut p = base.clone();
            f(&mut p, v.to_string());
            digest(&p, &none)
        };
        for d in [
            set(|p, v| p.since = Some(v), "v1"),
            set(|p, v| p.since = Some(v), "v2"),
            set(|p, v| p.emergency = Some(v), "1 of humans"),
            set(|p, v| p.review = Some(v), "1 of humans"),
            set(|p, v| p.review_within = Some(v), "72h"),
            set(|p, v| p.review_within = Some(v), "3d"),
            digest(
                &base,
                &BTreeMap::from([("alice".to_string(), vec!["a@example.org".to_string()])]),
            ),
            digest(
                &base,
                &BTreeMap::from([("alice".to_string(), vec!["b@example.org".to_string()])]),
            ),
            digest(&base, &BTreeMap::from([("alice".to_string(), vec![])])),
        ] {
            assert!(!seen.contains(&d), "{d} twice");
            seen.push(d);
        }
        // The same configuration, the same key.
        assert_eq!(digest(&base, &none), plain);
    }
}
