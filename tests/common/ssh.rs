//! SSH keys for the tests: real ssh-keygen makes keys and signatures, real
//! git (`gpg.format=ssh`) makes layers.
#![allow(dead_code)]

use super::process::{checked, run_with_input};
use super::Ctx;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

/// An SSH key pair made by ssh-keygen, without a passphrase.
pub struct SshKey {
    pub name: String,
    /// The private key file; the public one is beside it (`.pub`).
    pub path: PathBuf,
}

impl SshKey {
    pub fn pub_path(&self) -> PathBuf {
        self.path.with_extension("pub")
    }

    /// The public key line ssh-keygen wrote.
    pub fn pub_line(&self) -> String {
        fs::read_to_string(self.pub_path())
            .unwrap()
            .trim()
            .to_string()
    }

    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        let mut cmd = Command::new("ssh-keygen");
        cmd.arg("-lf").arg(self.pub_path());
        let out = checked("ssh-keygen -l", run_with_input(cmd, None));
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    /// `ssh-keygen -Y sign -n NAMESPACE` over `data`: the armored block.
    pub fn sign(&self, namespace: &str, data: &[u8]) -> String {
        let dir = self.path.parent().unwrap();
        let file = dir.join(format!("{}-{namespace}-data", self.name));
        fs::write(&file, data).unwrap();
        let sig = file.with_extension("sig");
        let _ = fs::remove_file(&sig);
        let mut cmd = Command::new("ssh-keygen");
        cmd.args(["-q", "-Y", "sign", "-n", namespace, "-f"])
            .arg(&self.path)
            .arg(&file);
        checked("ssh-keygen -Y sign", run_with_input(cmd, None));
        fs::read_to_string(sig).unwrap()
    }
}

impl Ctx {
    /// `ssh-keygen -t TYPE [-b BITS] -N ''`.
    pub fn ssh_key(&self, name: &str, typ: &str, bits: Option<&str>) -> SshKey {
        let path = self.root.join(format!("ssh-{name}"));
        let mut cmd = Command::new("ssh-keygen");
        cmd.args([
            "-q",
            "-t",
            typ,
            "-N",
            "",
            "-C",
            &format!("{name}@example.org"),
        ]);
        if let Some(b) = bits {
            cmd.args(["-b", b]);
        }
        cmd.arg("-f").arg(&path);
        checked("ssh-keygen", run_with_input(cmd, None));
        SshKey {
            name: name.to_string(),
            path,
        }
    }

    /// Adds `key`'s line (with `options` before it, if any) to
    /// keys/SIGNER.pub.
    pub fn trust_ssh(&self, key: &SshKey, signer: &str, options: &str) {
        let file = self.keys.join(format!("{signer}.pub"));
        let mut text = fs::read_to_string(&file).unwrap_or_default();
        if options.is_empty() {
            text.push_str(&format!("{}\n", key.pub_line()));
        } else {
            text.push_str(&format!("{options} {}\n", key.pub_line()));
        }
        fs::write(file, text).unwrap();
    }

    /// `git -c gpg.format=ssh -c user.signingkey=KEY.pub tag -s ARGS`,
    /// dated `date` (seconds since the epoch) when given.
    pub fn ssh_tag_s(&self, key: &SshKey, args: &[&str], date: Option<i64>) {
        let mut cmd = self.git.command(&self.repo, &self.home);
        cmd.args(["-c", "gpg.format=ssh", "-c", "advice.nestedTag=false"])
            .arg("-c")
            .arg(format!("user.signingkey={}", key.pub_path().display()))
            .args(["tag", "-s"])
            .args(args);
        if let Some(t) = date {
            cmd.env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
        }
        checked(
            &format!("git tag -s {args:?} by {}", key.name),
            run_with_input(cmd, None),
        );
    }

    /// First layer, SSH-signed: `git tag -s -m MSG NAME TARGET`.
    pub fn ssh_sign(&self, key: &SshKey, name: &str, target: &str) {
        let msg = format!("{name} signed by {}", key.name);
        self.ssh_tag_s(key, &["-m", &msg, name, target], None);
    }

    /// Next layer, SSH-signed: `git tag -s -f NAME NAME`.
    pub fn ssh_cosign(&self, key: &SshKey, name: &str) {
        let msg = format!("{name} co-signed by {}", key.name);
        self.ssh_tag_s(key, &["-f", "-m", &msg, name, name], None);
    }
}
