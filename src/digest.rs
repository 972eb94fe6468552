//! SHA-256 as lower-case hex, for cache keys. A leaf but for the error
//! type.

use crate::error::{Context as _, ErrorKind, Result};
use openpgp::crypto::hash;
use openpgp::types::HashAlgorithm;
use sequoia_openpgp as openpgp;

fn unavailable() -> String {
    "SHA-256 is not available".to_string()
}

/// A SHA-256 being computed.
pub struct Sha256(hash::Context);

impl Sha256 {
    pub fn new() -> Result<Sha256> {
        let ctx = HashAlgorithm::SHA256
            .context()
            .context(ErrorKind::Io, unavailable)?
            .for_digest();
        Ok(Sha256(ctx))
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest, as lower-case hex.
    pub fn hex(self) -> Result<String> {
        let digest = self.0.into_digest().context(ErrorKind::Io, unavailable)?;
        Ok(crate::encoding::hex(&digest))
    }
}

/// The SHA-256 of `data`, as lower-case hex.
pub fn sha256_hex(data: &[u8]) -> Result<String> {
    let mut ctx = Sha256::new()?;
    ctx.update(data);
    ctx.hex()
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_digest() {
        assert_eq!(
            super::sha256_hex(b"abc").unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
