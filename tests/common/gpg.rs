//! GnuPG for the tests: a private home, keys made with `--quick-gen-key`,
//! exports and imports, and stopping the agents a home has started.
#![allow(dead_code)]

use super::process::{checked, run_with_input};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A gpg identity made for one test.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub fpr: String,
}

impl Key {
    pub fn uid(&self) -> String {
        uid(&self.name)
    }
}

/// `NAME <NAME@example.org>`
pub fn uid(name: &str) -> String {
    format!("{name} <{name}@example.org>")
}

/// Creates an empty GnuPG home (mode 0700).
pub fn create_home(home: &Path) {
    fs::create_dir(home).unwrap();
    fs::set_permissions(home, fs::Permissions::from_mode(0o700)).unwrap();
}

/// Stops every daemon (gpg-agent, scdaemon, ...) started for `home`.
pub fn kill_agents(home: &Path) {
    let _ = Command::new("gpgconf")
        .args(["--kill", "all"])
        .env("GNUPGHOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// `gpg --batch --no-tty --pinentry-mode loopback` in `home`.
pub fn command(home: &Path) -> Command {
    let mut cmd = Command::new("gpg");
    cmd.env("GNUPGHOME", home).env("LC_ALL", "C").args([
        "--batch",
        "--no-tty",
        "--pinentry-mode",
        "loopback",
    ]);
    cmd
}

/// Runs gpg in `home`; returns the output whatever the status.
pub fn output(home: &Path, args: &[&str]) -> Output {
    let mut cmd = command(home);
    cmd.args(args);
    run_with_input(cmd, None)
}

/// Runs gpg in `home`; panics on failure; returns stdout.
pub fn run(home: &Path, args: &[&str]) -> Vec<u8> {
    checked(&format!("gpg {args:?}"), output(home, args)).stdout
}

/// How `gen_key` makes a signing key.
#[derive(Clone, Debug)]
pub struct NewKey<'a> {
    pub algo: &'a str,
    pub expiry: &'a str,
    pub passphrase: &'a str,
    /// `--faked-system-time EPOCH!`: the key's creation time.
    pub created: Option<i64>,
    /// `--yes`: allow a user ID the keyring already holds.
    pub again: bool,
}

impl Default for NewKey<'_> {
    fn default() -> Self {
        NewKey {
            algo: "ed25519",
            expiry: "never",
            passphrase: "",
            created: None,
            again: false,
        }
    }
}

/// `gpg --quick-gen-key UID ALGO sign EXPIRY` in `home`; returns the new
/// key's fingerprint (upper case) from the KEY_CREATED status line.
pub fn gen_key(home: &Path, uid: &str, spec: &NewKey) -> String {
    gen_key_with(home, uid, spec, &[])
}

/// Like [`gen_key`], with `extra` gpg options (for example
/// `--cert-digest-algo SHA1`) before the command.
pub fn gen_key_with(home: &Path, uid: &str, spec: &NewKey, extra: &[&str]) -> String {
    let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    args.extend::<Vec<String>>(vec![
        "--status-fd".into(),
        "1".into(),
        "--passphrase".into(),
        spec.passphrase.into(),
    ]);
    if let Some(t) = spec.created {
        args.push("--faked-system-time".into());
        args.push(format!("{t}!"));
    }
    if spec.again {
        args.push("--yes".into());
    }
    for a in ["--quick-gen-key", uid, spec.algo, "sign", spec.expiry] {
        args.push(a.to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let status = String::from_utf8_lossy(&run(home, &refs)).into_owned();
    status
        .lines()
        .find_map(|l| l.strip_prefix("[GNUPG:] KEY_CREATED "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no KEY_CREATED in gpg status: {status}"))
        .to_uppercase()
}

/// Armored public certificate of `who` (a fingerprint or user ID).
pub fn export_public(home: &Path, who: &str) -> Vec<u8> {
    run(home, &["--armor", "--export", who])
}

/// Armored secret key of `who`, still protected by `passphrase` if it has
/// one.
pub fn export_secret(home: &Path, who: &str, passphrase: &str) -> Vec<u8> {
    run(
        home,
        &[
            "--passphrase",
            passphrase,
            "--armor",
            "--export-secret-keys",
            who,
        ],
    )
}

/// `gpg --import FILE` into `home`.
pub fn import(home: &Path, file: &Path) {
    run(home, &["--import", file.to_str().expect("UTF-8 path")]);
}
