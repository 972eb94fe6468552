//! Names the commit the binary is built from, for `sigtag --version`:
//! SIGTAG_BUILD_COMMIT is "commit <12 hex>", with "-dirty" when the
//! sources that go into the binary differ from it, or "unknown commit"
//! outside a git checkout (a source tarball, an image build without .git).
//! A build without .git may name its commit in SIGTAG_COMMIT (the
//! Dockerfile's build argument). No dependencies: it runs `git`, and gives
//! up quietly without it.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        // `git status` must not refresh the index: that would change a
        // file watched below and rerun this script on every build.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Reruns when `path` changes; cargo would rerun every time for a path that
/// does not exist, so only existing ones are named.
fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&dir);
    let sources = ["src", "Cargo.toml", "Cargo.lock", "build.rs"];
    for s in sources {
        println!("cargo:rerun-if-changed={s}");
    }
    // Only this checkout counts, not a repository the sources sit inside.
    let top = git(dir, &["rev-parse", "--show-toplevel"]).map(std::path::PathBuf::from);
    let ours = top.is_some_and(|t| t.canonicalize().ok() == dir.canonicalize().ok());
    let commit = if ours {
        git(dir, &["rev-parse", "--short=12", "HEAD"])
    } else {
        None
    };
    println!("cargo:rerun-if-env-changed=SIGTAG_COMMIT");
    let given = std::env::var("SIGTAG_COMMIT")
        .ok()
        .filter(|c| (12..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let text = match (commit, given) {
        (None, Some(c)) => format!("commit {}", &c[..12]),
        (commit, _) => match commit {
            Some(c) => {
                // HEAD, the branch it names and packed-refs move on a commit,
                // a checkout or a fetch; worktrees keep them in their own places.
                for file in ["HEAD", "packed-refs"] {
                    if let Some(p) = git(dir, &["rev-parse", "--git-path", file]) {
                        watch(&dir.join(p));
                    }
                }
                if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
                    if let Some(p) = git(dir, &["rev-parse", "--git-path", &branch]) {
                        // A packed branch gets its file on the next commit.
                        let p = dir.join(p);
                        match p.parent().filter(|_| !p.exists()) {
                            Some(parent) => watch(parent),
                            None => watch(&p),
                        }
                    }
                }
                let mut args = vec!["status", "--porcelain", "--"];
                args.extend(sources);
                let dirty = git(dir, &args).is_none_or(|s| !s.is_empty());
                format!("commit {c}{}", if dirty { "-dirty" } else { "" })
            }
            None => "unknown commit".to_string(),
        },
    };
    println!("cargo:rustc-env=SIGTAG_BUILD_COMMIT={text}");
}
