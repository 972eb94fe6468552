//! Every bound sigtag promises, in one place.
//!
//! The READMEs, docs/security.md and the messages name these numbers; the
//! messages are built from the constants here (with [`size_words`],
//! [`duration_words`] and [`seconds`]), so a bound changes in one line.
//!
//! A leaf: this module imports nothing of the crate.

use std::time::Duration;

// --- what one tag may be ---

/// A tag object larger than this is refused (unread when its header says
/// so).
pub const MAX_OBJECT_SIZE: usize = 1 << 20;

/// A commit larger than this is not read to look for replaced objects in
/// its tree; the tag is refused instead.
pub const MAX_COMMIT_SIZE: usize = 16 << 20;

/// More layers than this reject the tag.
pub const MAX_LAYERS: usize = 32;

/// The most signature packets one layer may carry.
pub const MAX_SIGNATURES_PER_LAYER: usize = 16;

/// An SSH signature block (armored, begin to end line) larger than this
/// refuses the tag: an RSA 16384-bit signature with its key armors to
/// under 6 KiB.
pub const MAX_SSH_SIGNATURE_SIZE: usize = 16 << 10;

// --- dates ---

/// Signatures dated further ahead than this do not count. It is also how
/// much earlier than its layer's tagger date a signature may be made, and
/// how much earlier than the layer below it a layer may be dated.
pub const MAX_CLOCK_SKEW_SECS: u64 = 5 * 60;

/// How much later than its layer's tagger date a signature may be made:
/// git takes the date, then waits for gpg, a PIN or a touch.
pub const MAX_SIGNING_DELAY_SECS: u64 = 60 * 60;

// --- the trust root ---

/// A signer file holding more certificates than this is refused.
pub const MAX_CERTS_PER_SIGNER: usize = 16;

/// A certificate file larger than this is refused.
pub const MAX_CERT_FILE_SIZE: u64 = 1 << 20;

/// A signer holding more SSH public keys than this is refused; so is a
/// `revoked.pub` listing more than [`MAX_REVOKED_SSH_KEYS`].
pub const MAX_SSH_KEYS_PER_SIGNER: usize = 16;

/// The most keys `revoked.pub` may list.
pub const MAX_REVOKED_SSH_KEYS: usize = 1024;

/// RSA SSH keys shorter than this many bits are refused.
pub const MIN_SSH_RSA_BITS: usize = 2048;

/// The longest rule text accepted; rules are written by people.
pub const MAX_RULE_LEN: usize = 4096;

/// The deepest nesting of parentheses a rule may have.
pub const MAX_RULE_DEPTH: usize = 32;

// --- promotions as transitions (DESIGN §6) ---

/// The most commits the range of one promotion may hold (the commits
/// reachable from its commit and not from its base's, or from `since`'s).
/// A longer range refuses the tag; `since = "REV"` in policy.toml shortens
/// the range of a tag with no base.
pub const MAX_RANGE_COMMITS: usize = 100_000;

// --- the resource ---

/// Requests larger than this are refused (certificates are a few KiB each).
pub const MAX_REQUEST: usize = 16 << 20;

/// A file a `put` reads through its params (`params.tested_from`) larger
/// than this is refused: it holds one commit or tag name.
pub const MAX_PARAMS_FILE: u64 = 4096;

/// How long a check may take when `source.check_timeout` is not set.
pub const DEFAULT_CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// The largest `source.check_timeout`, in seconds: a day.
pub const MAX_CHECK_TIMEOUT_SECS: u64 = 86_400;

/// How long one network wait (a connect, a read, a write) may take when
/// `source.network_timeout` is not set.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest `source.network_timeout`, in seconds: a day.
pub const MAX_NETWORK_TIMEOUT_SECS: u64 = 86_400;

/// The most tags check's log names one by one; the rest are counted.
pub const MAX_NAMED: usize = 50;

/// The most versions the resource's cache remembers returning: the newest
/// ones. Concourse starts a check from its latest version, so the memory
/// only needs the last few.
pub const MAX_RETURNED: usize = 1024;

/// How many times `out` makes a layer again after the tag changed on the
/// remote before giving up.
pub const MAX_PUT_ATTEMPTS: usize = 5;

/// The most reasons a one-line verdict names for the signatures that did
/// not count; the rest are counted, and `sigtag explain` shows all.
pub const MAX_NOT_COUNTED: usize = 3;

/// The shortest secret the log hides: shorter strings are too common in
/// ordinary text to be replaced.
pub const MIN_HIDDEN: usize = 4;

// --- remotes ---

/// Credential attempts before giving up (libgit2 asks again after every
/// refusal, forever, if the callback keeps answering).
pub const MAX_CREDENTIAL_ATTEMPTS: usize = 3;

/// How often, and how long each time, a push to a repository on this
/// machine waits for another process's lock on the tag: a second in all.
pub const LOCK_WAITS: u32 = 100;
pub const LOCK_WAIT: Duration = Duration::from_millis(10);

// --- words for messages ---

/// A size in words, as the messages print the bounds above: "1 MiB",
/// "16 MiB", "4 KiB", "100 bytes".
pub fn size_words(bytes: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A duration in words, as the messages print the bounds above: "5
/// minutes", "1 hour", "90 seconds".
pub fn duration_words(secs: u64) -> String {
    let (n, unit) = if secs % 3600 == 0 && secs > 0 {
        (secs / 3600, "hour")
    } else if secs % 60 == 0 && secs > 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A duration for messages: `60 s`, `2.5 s`.
pub fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

/// The longest commit subject a report (`sigtag audit`) shows whole;
/// longer ones are cut there and end in `…`.
pub const MAX_SUBJECT_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(size_words(MAX_OBJECT_SIZE as u64), "1 MiB");
        assert_eq!(size_words(MAX_REQUEST as u64), "16 MiB");
        assert_eq!(size_words(4096), "4 KiB");
        assert_eq!(size_words(100), "100 bytes");
        assert_eq!(duration_words(MAX_CLOCK_SKEW_SECS), "5 minutes");
        assert_eq!(duration_words(MAX_SIGNING_DELAY_SECS), "1 hour");
        assert_eq!(duration_words(90), "90 seconds");
        assert_eq!(seconds(DEFAULT_NETWORK_TIMEOUT), "60 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }
}
