//! git for the tests: a private global configuration, commands that see
//! nothing else, and signed tags made by `git tag -s`.
#![allow(dead_code)]

use super::gpg::Key;
use super::process::{checked, run_with_input};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A git program with its own HOME and global configuration.
pub struct Git {
    program: &'static str,
    /// HOME for git.
    pub home: PathBuf,
    /// GIT_CONFIG_GLOBAL: `home/gitconfig`.
    pub config: PathBuf,
}

impl Git {
    /// Writes `home/gitconfig` naming `user` <`email`>, branch main, no
    /// advice on nested tags or detached heads, file:// allowed.
    pub fn new(program: &'static str, home: &Path, user: &str, email: &str) -> Git {
        let config = home.join("gitconfig");
        fs::write(
            &config,
            format!(
                "[user]\n\tname = {user}\n\temail = {email}\n\
                 [init]\n\tdefaultBranch = main\n\
                 [advice]\n\tnestedTag = false\n\tdetachedHead = false\n\
                 [protocol \"file\"]\n\tallow = always\n"
            ),
        )
        .unwrap();
        Git {
            program,
            home: home.to_path_buf(),
            config,
        }
    }

    /// git in `dir`, signing with the keys in `gnupg`, blind to the
    /// caller's git and gpg environment.
    pub fn command(&self, dir: &Path, gnupg: &Path) -> Command {
        let mut cmd = Command::new(self.program);
        cmd.current_dir(dir)
            .env("GNUPGHOME", gnupg)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.config)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_COMMITTER_DATE")
            .env_remove("TEST_GPG_FAKETIME")
            .env_remove("TEST_GPG_DIGEST");
        cmd
    }

    /// Runs git; returns the output whatever the status.
    pub fn output(&self, dir: &Path, gnupg: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command(dir, gnupg);
        cmd.args(args);
        run_with_input(cmd, None)
    }

    /// Runs git; panics on failure; returns trimmed stdout.
    pub fn run(&self, dir: &Path, gnupg: &Path, args: &[&str]) -> String {
        let out = checked(&format!("git {args:?}"), self.output(dir, gnupg, args));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// `git -c user.signingkey=FPR tag -s ARGS...` run through `cmd` (from
/// [`Git::command`], perhaps with more options or environment); panics on
/// failure.
pub fn tag_signed(mut cmd: Command, key: &Key, args: &[&str]) {
    cmd.arg("-c")
        .arg(format!("user.signingkey={}", key.fpr))
        .args(["tag", "-s"])
        .args(args);
    checked(
        &format!("git tag -s {args:?} by {}", key.name),
        run_with_input(cmd, None),
    );
}
