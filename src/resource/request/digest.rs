//! The verdict cache's key of a trust configuration.

use crate::digest::Sha256;
use crate::error::Result;
use crate::trust::CertSource;
use std::collections::BTreeMap;

/// The cache key of a trust configuration: every input of a verdict except
/// the tag itself and the clock.
pub(super) fn trust_digest(
    sources: &[CertSource],
    groups: &BTreeMap<String, Vec<String>>,
    require: &str,
    environment: &str,
) -> Result<String> {
    let mut ctx = Sha256::new()?;
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    field(b"sigtag verdict cache");
    field(env!("CARGO_PKG_VERSION").as_bytes());
    let mut sorted: Vec<&CertSource> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    field(&(sorted.len() as u64).to_be_bytes());
    for s in sorted {
        field(s.name.as_bytes());
        field(&s.bytes);
    }
    field(&(groups.len() as u64).to_be_bytes());
    for (g, members) in groups {
        field(g.as_bytes());
        field(&(members.len() as u64).to_be_bytes());
        for m in members {
            field(m.as_bytes());
        }
    }
    field(require.as_bytes());
    field(environment.as_bytes());
    ctx.hex()
}
