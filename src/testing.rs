//! Certificates for the library's unit tests: one to make, one way to
//! revoke one.

use sequoia_openpgp as openpgp;

use openpgp::cert::{CertBuilder, CertRevocationBuilder};
use openpgp::types::ReasonForRevocation;
use openpgp::Cert;
use std::time::SystemTime;

/// A new general-purpose certificate (with its secret keys) for `uid`.
pub(crate) fn cert(uid: &str) -> Cert {
    CertBuilder::general_purpose(Some(uid))
        .generate()
        .unwrap()
        .0
}

/// `cert` revoked by its primary key at `at`, for `reason`, with `note`
/// as the revocation's message.
pub(crate) fn revoked(
    cert: Cert,
    reason: ReasonForRevocation,
    note: &[u8],
    at: SystemTime,
) -> Cert {
    let mut primary = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let rev = CertRevocationBuilder::new()
        .set_reason_for_revocation(reason, note)
        .unwrap()
        .set_signature_creation_time(at)
        .unwrap()
        .build(&mut primary, &cert, None)
        .unwrap();
    cert.insert_packets(rev).unwrap().0
}
