//! Every reason sigtag gives for refusing a tag or not counting a signature.
//!
//! The text of each reason is part of the interface: reports, tests and
//! people read it. Tag-level problems ([`Problem::rejects_tag`]) reject the
//! whole tag; the others only mean that a layer or signature counts for
//! nothing.

use crate::object::Kind;
use std::fmt;

pub use crate::limits::{
    duration_words, MAX_CLOCK_SKEW_SECS, MAX_SIGNATURES_PER_LAYER, MAX_SIGNING_DELAY_SECS,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    // --- the whole tag is refused ---
    NotFound(String),
    SymbolicRef,
    Unreadable(String),
    Lightweight(Kind),
    NameMismatch {
        found: String,
        expected: String,
    },
    BottomNotCommit(Kind),
    TooManyLayers,
    Malformed(String),
    TrailingData,
    MultipleArmor,
    BadSignature {
        signer: String,
        key: String,
    },
    UnreadableSignature(String),
    TooManySignatures,
    /// A signature by a trusted key made too long before or after its
    /// layer's tagger date (both RFC 3339).
    DateMismatch {
        signer: String,
        dated: String,
        signed: String,
    },
    /// A layer dated earlier than the layer below it by more than the
    /// clock skew (both RFC 3339).
    OutOfOrder {
        dated: String,
        below: String,
    },
    /// `refs/replace/<object>` replaces an object of the chain (a layer,
    /// the commit, its tree or anything in it) with `by`.
    Replaced {
        object: String,
        by: String,
    },
    /// The tag's transition (its base or range, DESIGN §6) cannot be
    /// judged; the sentence says why and what to fix.
    History(String),
    /// An emergency promotion of the environment, older than this tag,
    /// is past its review deadline unreviewed (DESIGN §6): the sentence
    /// names it and what it needs.
    ReviewOverdue(String),
    /// The environment's `tag_filter` does not match the tag: it is no
    /// promotion of that environment.
    OutsideFilter {
        environment: String,
        filter: String,
    },

    // --- the layer or signature counts for nothing ---
    Unsigned,
    ForeignSignature(String),
    UnknownKey(String),
    NotDocumentSignature {
        signer: String,
    },
    NoCreationTime {
        signer: String,
    },
    Weak {
        signer: String,
        algo: String,
    },
    PolicyRejected {
        signer: String,
        why: String,
    },
    Future {
        signer: String,
        created: String,
    },
    /// Past its own Signature Expiration Time (RFC 3339).
    SignatureExpired {
        signer: String,
        at: String,
    },
    Expired {
        signer: String,
        key: String,
    },
    NotYetValid {
        signer: String,
        key: String,
    },
    Compromised {
        signer: String,
    },
    SoftRevoked {
        signer: String,
        key: String,
        reason: String,
    },
    NotSigningKey {
        signer: String,
        key: String,
    },
    /// No self-signature sigtag accepts binds the key to its certificate,
    /// at the signature's time or later.
    Unbound {
        signer: String,
        key: String,
    },
    /// An SSH key listed in `revoked.pub` (`origin`: its file and line).
    SshRevoked {
        key: String,
        origin: String,
    },
    /// An SSH signature made in another namespace than `git`.
    SshNamespace {
        signer: String,
        namespace: String,
    },
    /// A FIDO key's signature made without a touch.
    NoUserPresence {
        signer: String,
        key: String,
    },
    /// A FIDO key's signature without user verification, which
    /// `[ssh] require_user_verification = true` demands.
    NoUserVerification {
        signer: String,
        key: String,
    },
    /// An SSH key outside its `valid-after`/`valid-before` window at the
    /// layer's tagger date (RFC 3339).
    SshKeyOutsideWindow {
        signer: String,
        key: String,
        window: String,
        origin: String,
        dated: String,
    },

    // --- the layer's signatures count, its trailer does not ---
    /// The layer's `Sigtag-Tested-From` trailer is malformed or repeated:
    /// it counts for no `tested` atom. The signatures still count.
    Trailer(String),
}

impl Problem {
    /// Does this problem reject the whole tag?
    pub fn rejects_tag(&self) -> bool {
        use Problem::*;
        matches!(
            self,
            NotFound(_)
                | SymbolicRef
                | Unreadable(_)
                | Lightweight(_)
                | NameMismatch { .. }
                | BottomNotCommit(_)
                | TooManyLayers
                | Malformed(_)
                | TrailingData
                | MultipleArmor
                | BadSignature { .. }
                | UnreadableSignature(_)
                | TooManySignatures
                | DateMismatch { .. }
                | OutOfOrder { .. }
                | Replaced { .. }
                | History(_)
                | ReviewOverdue(_)
                | OutsideFilter { .. }
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        match self {
            NotFound(name) => write!(f, "no tag named \"{name}\""),
            SymbolicRef => f.write_str("the tag is a symbolic reference"),
            Unreadable(why) => write!(f, "the tag cannot be read: {why}"),
            Lightweight(kind) => write!(
                f,
                "lightweight tag: it points at a {kind}, not at a signed tag object"
            ),
            NameMismatch { found, expected } => {
                write!(f, "layer is named \"{found}\", not \"{expected}\"")
            }
            BottomNotCommit(kind) => write!(f, "the chain ends at a {kind}, not at a commit"),
            TooManyLayers => write!(f, "more than {} layers", crate::limits::MAX_LAYERS),
            Malformed(why) => write!(f, "malformed tag object: {why}"),
            TrailingData => f.write_str("text after the signature block"),
            MultipleArmor => f.write_str("more than one armored block in one layer"),
            BadSignature { signer, key } => write!(
                f,
                "bad signature by {signer} ({key}): the layer was altered after it was signed"
            ),
            UnreadableSignature(why) => write!(f, "unreadable signature block: {why}"),
            TooManySignatures => write!(
                f,
                "more than {MAX_SIGNATURES_PER_LAYER} signature packets in one layer"
            ),
            DateMismatch {
                signer,
                dated,
                signed,
            } => write!(
                f,
                "the layer is dated {dated} but {signer}'s signature was made at {signed}: \
                 a signature comes at most {} before its layer's date and at most {} after it",
                duration_words(MAX_CLOCK_SKEW_SECS),
                duration_words(MAX_SIGNING_DELAY_SECS)
            ),
            OutOfOrder { dated, below } => write!(
                f,
                "the layer is dated {dated}, more than {} before the layer below it ({below})",
                duration_words(MAX_CLOCK_SKEW_SECS)
            ),
            Replaced { object, by } => write!(
                f,
                "refs/replace/{object} replaces {object} of the chain with {by}: \
                 git would use other content than was signed"
            ),
            History(why) | ReviewOverdue(why) => f.write_str(why),
            OutsideFilter {
                environment,
                filter,
            } => write!(
                f,
                "{environment} promotes only tags matching \"{filter}\" (its tag_filter), and this tag's name does not"
            ),
            Unsigned => f.write_str("no signature"),
            ForeignSignature(kind) => write!(f, "not an OpenPGP signature ({kind})"),
            UnknownKey(id) => write!(f, "signed by a key nobody trusts: {id}"),
            NotDocumentSignature { signer } => {
                write!(f, "signature by {signer} is not a document signature")
            }
            NoCreationTime { signer } => write!(f, "signature by {signer} has no creation time"),
            Weak { signer, algo } => {
                write!(f, "signature by {signer} uses {algo}, which is too weak")
            }
            PolicyRejected { signer, why } => write!(
                f,
                "signature by {signer} is not acceptable under the standard policy: {why}"
            ),
            Future { signer, created } => write!(
                f,
                "signature by {signer} is dated {created}, more than {} in the future",
                duration_words(MAX_CLOCK_SKEW_SECS)
            ),
            SignatureExpired { signer, at } => {
                write!(f, "signature by {signer} expired at {at}")
            }
            Expired { signer, key } => write!(
                f,
                "{signer}'s key {key} had expired when the signature was made"
            ),
            NotYetValid { signer, key } => write!(
                f,
                "{signer}'s key {key} did not exist yet when the signature was made"
            ),
            Compromised { signer } => write!(
                f,
                "{signer}'s certificate is revoked as compromised, so none of its signatures count"
            ),
            SoftRevoked {
                signer,
                key,
                reason,
            } => write!(
                f,
                "{signer}'s key {key} was revoked ({reason}) before the signature was made"
            ),
            NotSigningKey { signer, key } => {
                write!(f, "{signer}'s key {key} is not a signing key")
            }
            Unbound { signer, key } => write!(
                f,
                "{signer}'s key {key} is bound to its certificate by no self-signature sigtag accepts"
            ),
            SshRevoked { key, origin } => write!(
                f,
                "SSH key {key} is revoked in revoked.pub ({origin}), so none of its signatures count"
            ),
            SshNamespace { signer, namespace } => write!(
                f,
                "SSH signature by {signer} is in namespace \"{namespace}\", not \"git\": it was made for something else than a git tag"
            ),
            NoUserPresence { signer, key } => write!(
                f,
                "signature by {signer} ({key}) was made without a touch (no user presence)"
            ),
            NoUserVerification { signer, key } => write!(
                f,
                "signature by {signer} ({key}) was made without user verification (no PIN or biometric), \
                 which policy.toml's [ssh] require_user_verification demands"
            ),
            SshKeyOutsideWindow {
                signer,
                key,
                window,
                origin,
                dated,
            } => write!(
                f,
                "{signer}'s SSH key {key} is valid only {window} ({origin}), and the layer is dated {dated}"
            ),
            Trailer(why) => write!(
                f,
                "{why}, so the layer's {} counts for no tested atom",
                crate::message::TESTED_FROM_TRAILER
            ),
        }
    }
}
