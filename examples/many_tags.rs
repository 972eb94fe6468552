//! Writes many promotion tags fast, for bench/check.sh: one chain of
//! signed layers per commit, each layer signed by the next key, exactly as
//! `git tag -s` and `git tag -s -f NAME NAME` would write them.
//!
//! ```text
//! many_tags REPO MARKS KEY...
//! ```
//!
//! MARKS holds `:I COMMIT` lines (as `git fast-import --export-marks`
//! writes them); tag I is `v0.I.0`, its layer L is signed by the L-th KEY
//! (an unprotected armored secret key file) at I minutes + L seconds after
//! a start that lies as many minutes in the past as there are tags (the
//! keys must be older than that). Prints `create refs/tags/NAME OID` lines for
//! `git update-ref --stdin`.

use git2::{ObjectType, Oid, Repository};
use rayon::prelude::*;
use sigtag::object::{Kind, Tagger};
use sigtag::sign::{self, SigningKey};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: many_tags REPO MARKS KEY...");
        std::process::exit(2);
    }
    let repo_dir = PathBuf::from(&args[0]);
    let marks = std::fs::read_to_string(&args[1]).expect("read MARKS");
    let key_files: Vec<PathBuf> = args[2..].iter().map(PathBuf::from).collect();
    let commits: Vec<(u64, String)> = marks
        .lines()
        .filter_map(|l| {
            let (mark, oid) = l.split_once(' ')?;
            Some((mark.trim_start_matches(':').parse().ok()?, oid.to_string()))
        })
        .collect();

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let start = now - 60 * (commits.len() as i64 + 2);
    let lines: Vec<String> = commits
        .par_iter()
        .map_init(
            || {
                let repo = Repository::open(&repo_dir).expect("open REPO");
                let keys: Vec<SigningKey> = key_files
                    .iter()
                    .map(|k| sign::load_key_file(k).expect("load KEY"))
                    .collect();
                (repo, keys)
            },
            |(repo, keys), (i, commit)| {
                let odb = repo.odb().expect("odb");
                let name = format!("v0.{i}.0");
                let mut target = commit.clone();
                let mut kind = Kind::Commit;
                for (l, key) in keys.iter_mut().enumerate() {
                    let time = start + 60 * *i as i64 + l as i64;
                    let tagger = Tagger {
                        ident: key.ident().expect("key has a user ID"),
                        time,
                        tz: "+0000".into(),
                    };
                    let message = format!("{name} layer {}\n", l + 1);
                    let at = UNIX_EPOCH + Duration::from_secs(time as u64);
                    let bytes =
                        sign::signed_layer(key, &target, kind, &name, &tagger, &message, at)
                            .expect("sign");
                    let oid: Oid = odb.write(ObjectType::Tag, &bytes).expect("write tag");
                    target = oid.to_string();
                    kind = Kind::Tag;
                }
                format!("create refs/tags/{name} {target}")
            },
        )
        .collect();
    for line in lines {
        println!("{line}");
    }
}
