//! FIDO (security-key) SSH signatures without a security key: OpenSSH's
//! test authenticator, sk-dummy, built by `tests/ssh_support/sk-dummy.sh`
//! into target/sk-dummy/sk-dummy.so, driven through the real ssh-keygen.
//!
//! sk-dummy puts into each signature exactly the flags ssh-keygen asks
//! for, which are the key's own, fixed at creation: 0x01 (user present) by
//! default, 0x00 with `no-touch-required`, 0x05 with `verify-required`,
//! 0x04 with both. The counter is always 0x12345678. The script's header
//! says more.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const SSH_KEYGEN: &str = "ssh-keygen";

/// The counter sk-dummy puts into every signature.
pub const SK_DUMMY_COUNTER: u32 = 0x1234_5678;

/// Authenticator-data flag bits.
pub const FLAG_USER_PRESENT: u8 = 0x01;
pub const FLAG_USER_VERIFIED: u8 = 0x04;

/// The build script, for messages.
pub fn sk_dummy_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ssh_support/sk-dummy.sh")
}

/// Where the build script leaves sk-dummy.so and its stamp.
pub fn sk_dummy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sk-dummy")
}

/// target/sk-dummy/sk-dummy.so, or `None` (with a notice) when it has not
/// been built. Under CI (CI set) a missing library is a failure.
pub fn sk_dummy() -> Option<PathBuf> {
    let lib = sk_dummy_dir().join("sk-dummy.so");
    if lib.exists() {
        return Some(lib);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing and CI is set: run make test-deps (or {})",
        lib.display(),
        sk_dummy_script().display()
    );
    eprintln!(
        "notice: {} is missing, so the FIDO key tests do not run (make test-deps, or {}, builds it)",
        lib.display(),
        sk_dummy_script().display()
    );
    None
}

/// The two FIDO key types ssh-keygen makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkType {
    Ed25519,
    Ecdsa,
}

impl SkType {
    pub const ALL: [SkType; 2] = [SkType::Ed25519, SkType::Ecdsa];

    /// `ssh-keygen -t` argument.
    pub fn keygen_type(self) -> &'static str {
        match self {
            SkType::Ed25519 => "ed25519-sk",
            SkType::Ecdsa => "ecdsa-sk",
        }
    }

    /// The key type in a public key line.
    pub fn key_type(self) -> &'static str {
        match self {
            SkType::Ed25519 => "sk-ssh-ed25519@openssh.com",
            SkType::Ecdsa => "sk-ecdsa-sha2-nistp256@openssh.com",
        }
    }

    /// The name ssh-keygen prints in "Good ... signature ... with NAME key".
    pub fn display_name(self) -> &'static str {
        match self {
            SkType::Ed25519 => "ED25519-SK",
            SkType::Ecdsa => "ECDSA-SK",
        }
    }
}

/// Exit code and output of one ssh-keygen run.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    fn from_output(out: Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The flags byte `ssh-keygen -vv -Y verify` reports for the
    /// signature ("signature details: counter = N, flags = 0xNN").
    pub fn sig_flags(&self) -> Option<u8> {
        let at = self.stderr.find("signature details: ")?;
        let rest = &self.stderr[at..];
        let hex = rest.split("flags = 0x").nth(1)?.get(..2)?;
        u8::from_str_radix(hex, 16).ok()
    }

    /// The counter `ssh-keygen -vv -Y verify` reports for the signature.
    pub fn sig_counter(&self) -> Option<u32> {
        let at = self.stderr.find("signature details: counter = ")?;
        let rest = &self.stderr[at + "signature details: counter = ".len()..];
        rest.split(',').next()?.trim().parse().ok()
    }
}

/// ssh-keygen with an environment that cannot reach a person or an agent:
/// no agent socket, and a PIN (verify-required keys) read from an askpass
/// program that prints nothing, never from the terminal. sk-dummy ignores
/// the PIN.
pub fn keygen_cmd() -> Command {
    let mut cmd = Command::new(SSH_KEYGEN);
    cmd.env_remove("SSH_AUTH_SOCK")
        .env_remove("SSH_SK_PROVIDER")
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("SSH_ASKPASS", "/bin/true")
        .stdin(Stdio::null());
    cmd
}

fn run(mut cmd: Command, stdin: Option<&Path>) -> Outcome {
    if let Some(path) = stdin {
        let file = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        cmd.stdin(file);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    Outcome::from_output(out)
}

fn checked(what: &str, out: Outcome) -> Outcome {
    assert!(
        out.code == 0,
        "{what} failed (exit {})\nstdout:\n{}\nstderr:\n{}",
        out.code,
        out.stdout,
        out.stderr
    );
    out
}

/// A FIDO key held by sk-dummy: the private key file (a key handle, with
/// no passphrase) and its public half.
#[derive(Clone, Debug)]
pub struct SkKey {
    pub kind: SkType,
    /// The private key file.
    pub path: PathBuf,
    /// The public key line as ssh-keygen wrote it: `TYPE BASE64 COMMENT`.
    pub public: String,
    /// The provider that signs with it.
    pub provider: PathBuf,
}

impl SkKey {
    /// The public key file (`PATH.pub`).
    pub fn pub_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".pub");
        PathBuf::from(p)
    }

    /// `TYPE BASE64`, without the comment.
    pub fn public_key(&self) -> String {
        self.public
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// One allowed_signers line for `principal`, with `options` (e.g.
    /// `namespaces="git"`) when not empty.
    pub fn allowed_signers_line(&self, principal: &str, options: &str) -> String {
        if options.is_empty() {
            format!("{principal} {}\n", self.public_key())
        } else {
            format!("{principal} {options} {}\n", self.public_key())
        }
    }

    /// `ssh-keygen -Y sign -n NAMESPACE` on `file` through sk-dummy; the
    /// armored signature's path (`FILE.sig`, replaced if it exists).
    pub fn sign(&self, file: &Path, namespace: &str) -> PathBuf {
        let sig = PathBuf::from(format!("{}.sig", file.display()));
        let _ = fs::remove_file(&sig);
        let mut cmd = keygen_cmd();
        cmd.arg("-Y")
            .arg("sign")
            .arg("-w")
            .arg(&self.provider)
            .arg("-n")
            .arg(namespace)
            .arg("-f")
            .arg(&self.path)
            .arg(file);
        checked(
            &format!("ssh-keygen -Y sign {}", file.display()),
            run(cmd, None),
        );
        assert!(sig.exists(), "ssh-keygen wrote no {}", sig.display());
        sig
    }

    /// Signs `data` (written to `dir/NAME`) and returns the armored
    /// signature's text.
    pub fn sign_bytes(&self, dir: &Path, name: &str, data: &[u8], namespace: &str) -> String {
        let file = dir.join(name);
        fs::write(&file, data).unwrap();
        let sig = self.sign(&file, namespace);
        fs::read_to_string(sig).unwrap()
    }
}

/// Makes a FIDO key of `kind` with sk-dummy at `dir/NAME` (no passphrase,
/// comment NAME), with ssh-keygen's `-O` options (`no-touch-required`,
/// `verify-required`, `resident`, ...).
pub fn make_sk_key(
    provider: &Path,
    dir: &Path,
    name: &str,
    kind: SkType,
    options: &[&str],
) -> SkKey {
    let path = dir.join(name);
    assert!(!path.exists(), "{} exists already", path.display());
    let mut cmd = keygen_cmd();
    cmd.arg("-q")
        .arg("-t")
        .arg(kind.keygen_type())
        .arg("-w")
        .arg(provider)
        .arg("-N")
        .arg("")
        .arg("-C")
        .arg(name)
        .arg("-f")
        .arg(&path);
    for o in options {
        cmd.arg("-O").arg(o);
    }
    checked(
        &format!("ssh-keygen -t {} {options:?}", kind.keygen_type()),
        run(cmd, None),
    );
    let mut key = SkKey {
        kind,
        path,
        public: String::new(),
        provider: provider.to_path_buf(),
    };
    key.public = fs::read_to_string(key.pub_path())
        .unwrap()
        .trim()
        .to_string();
    assert!(
        key.public.starts_with(kind.key_type()),
        "unexpected public key {}",
        key.public
    );
    key
}

/// `ssh-keygen -vv -Y verify -f ALLOWED -I PRINCIPAL -n NAMESPACE -s SIG <
/// FILE`: what the reference verifier says, flags included (see
/// [`Outcome::sig_flags`]).
pub fn ssh_verify(
    allowed_signers: &Path,
    principal: &str,
    namespace: &str,
    file: &Path,
    sig: &Path,
) -> Outcome {
    let mut cmd = keygen_cmd();
    cmd.arg("-vv")
        .arg("-Y")
        .arg("verify")
        .arg("-f")
        .arg(allowed_signers)
        .arg("-I")
        .arg(principal)
        .arg("-n")
        .arg(namespace)
        .arg("-s")
        .arg(sig);
    run(cmd, Some(file))
}
