//! docs/hardware-tokens.md, run. The `sh` and `console` blocks are read
//! from the file itself, so the page and this test cannot drift apart:
//! each test builds a real scenario (a bare origin, Alice's signed tag,
//! Carol's co-signature pushed from a second clone, Bob's clone that
//! fetched the tag before Carol pushed), substitutes the page's
//! placeholders with the scenario's values, and runs the blocks in order
//! in one `bash -e`, in Bob's clone.
//!
//! - An `sh` block runs as it stands; any failing command fails the test.
//! - A `console` block is `$ COMMAND` lines, each followed by the output
//!   the page shows. Every command must exit 0 unless its step says
//!   otherwise, and print every line shown, in that order (other lines may
//!   come between; a command shown without output must print nothing).
//!   Lines are compared with runs of whitespace collapsed, runs of seven
//!   or more hex digits (object ids, fingerprints, dates in seconds) and
//!   RFC 3339 times taken as equal to any other such run, and the marks a
//!   terminal shows (✓, ✗) taken as the `+` and `-` a pipe gets; but where
//!   the page shows a placeholder (FPR, the card's ident), the command must
//!   print exactly the scenario's value.
//! - The `toml` block is the scenario's policy.toml.
//!
//! The card commands run on the virtual OpenPGP card (see
//! tests/token_support), the PIN typed on a terminal made by script(1);
//! the gpg-agent and plain-git commands sign with a software key in the
//! same GnuPG home, the same commands as with a key on a YubiKey.

mod common;
mod ssh_support;
mod token_support;

use common::*;
use sequoia_openpgp::parse::Parse;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use token_support::*;

const DOC: &str = "docs/hardware-tokens.md";

const ONCE: &str = "Once: put your card's certificate in the keys directory";
const DAY: &str = "The reviewer's day";
const FETCH: &str = "Fetch the tag as origin has it now";
const SEE: &str = "See what you vouch for";
const AGENT: &str = "Co-sign: with sigtag and gpg-agent";
const CARD: &str = "Co-sign: with sigtag and the card directly";
const GIT: &str = "Co-sign: with plain git and gpg";
const AFTER: &str = "Afterwards";
const FIDO_MAKE: &str = "Make the key on the token";
const FIDO_PUT: &str = "Put its public key in the keys directory";
const FIDO_GIT: &str = "Co-sign with the FIDO key: plain git";
const FIDO_AGENT: &str = "Co-sign with the FIDO key: sigtag and ssh-agent";
const FIDO_CHECK: &str = "Check the FIDO layer";
const FIDO_LOST: &str = "A lost token";
/// The SSH fingerprint the page shows for Bob's FIDO key.
const FIDO_FPR: &str = "SHA256:Or46VI7TRgrB6oajMkA2BN/cN+o2OLB+/ekiDlAR01A";
const DEVELOPERS: &str = "For developers and CI";

// ------------------------------------------------------------- the page

/// One fenced block of the page.
#[derive(Clone, Debug)]
struct Block {
    heading: String,
    /// 1 for the first block under its heading.
    nth: usize,
    /// Line of the opening fence.
    line: usize,
    lang: String,
    text: String,
}

impl Block {
    fn id(&self) -> String {
        format!("{DOC}:{} ({} #{})", self.line, self.heading, self.nth)
    }
}

fn page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"))
}

/// Every fenced block of the page, under the heading it follows.
fn blocks() -> Vec<Block> {
    let text = page();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let mut body = String::new();
            loop {
                let (_, l) = lines
                    .next()
                    .unwrap_or_else(|| panic!("{DOC}:{}: the fence is never closed", i + 1));
                if l.starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            let nth = count.entry(heading.clone()).or_insert(0);
            *nth += 1;
            out.push(Block {
                heading: heading.clone(),
                nth: *nth,
                line: i + 1,
                lang: info.trim().to_string(),
                text: body,
            });
        } else if line.starts_with('#') {
            heading = line.trim_start_matches('#').trim().to_string();
        }
    }
    out
}

fn block(heading: &str, nth: usize) -> Block {
    blocks()
        .into_iter()
        .find(|b| b.heading == heading && b.nth == nth)
        .unwrap_or_else(|| {
            let all: Vec<String> = blocks().iter().map(Block::id).collect();
            panic!("{DOC} has no block #{nth} under \"{heading}\"; it has {all:#?}")
        })
}

/// One `$ COMMAND` of a console block and the output shown after it.
#[derive(Clone, Debug)]
struct Shown {
    command: String,
    output: Vec<String>,
}

fn console_commands(b: &Block) -> Vec<Shown> {
    let mut out: Vec<Shown> = Vec::new();
    for line in b.text.lines() {
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(Shown {
                command: cmd.to_string(),
                output: Vec::new(),
            });
        } else {
            out.last_mut()
                .unwrap_or_else(|| panic!("{}: output before the first `$ ` command", b.id()))
                .output
                .push(line.to_string());
        }
    }
    assert!(
        !out.is_empty(),
        "{}: a console block without a command",
        b.id()
    );
    out
}

/// A line as the comparison sees it (see the module documentation).
fn normalize(line: &str) -> String {
    let words: Vec<String> = line.split_whitespace().map(normalize_word).collect();
    words.join(" ")
}

fn normalize_word(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        // 2025-12-01T15:00:00Z
        let time: String = chars[i..].iter().take(20).collect();
        if is_rfc3339_utc(&time) {
            out.push_str("<time>");
            i += 20;
            continue;
        }
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        if run >= 7 {
            out.push('#');
            i += run;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            // The page shows a terminal's marks; a pipe gets + and -.
            out.push(match chars[i] {
                '✓' => '+',
                '✗' => '-',
                c => c,
            });
            i += 1;
        }
    }
    out
}

fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn the_comparison_reads_lines_as_documented() {
    assert_eq!(
        normalize(" + 2e7a9c4...b61f0d8 v1.4.0 -> v1.4.0  (forced update)"),
        normalize("+  0123abc...fedcba9   v1.4.0 -> v1.4.0 (forced update)")
    );
    assert_eq!(
        normalize("signed by alice (committers) at 2025-12-01T15:00:00Z [9C4E1A7D]"),
        "signed by alice (committers) at <time> [#]"
    );
    assert_eq!(normalize("fpr:::::::::0A1B2C3D4E:"), "fpr:::::::::#:");
    assert_eq!(normalize("✓ signed ✗"), "+ signed -");
    // Short hex-looking words stay as they are.
    assert_eq!(normalize("added layer 3 face"), "added layer 3 face");
    assert_ne!(normalize("tag v1.4.0"), normalize("tag v1.4.1"));
}

// ------------------------------------------------------------- running it

/// What a test does at one point of the walk-through.
enum Step {
    /// A block of the page (heading, number under it), with the exit
    /// status of each of its console commands that does not exit 0
    /// (matched by how the command starts).
    Doc(&'static str, usize, Vec<(&'static str, i32)>),
    /// The test's own shell between two blocks: arranging a race, or
    /// checking the state the page says a block leaves behind.
    Hook(String),
}

fn doc(heading: &'static str, nth: usize) -> Step {
    Step::Doc(heading, nth, Vec::new())
}

fn doc_exits(heading: &'static str, nth: usize, exits: &[(&'static str, i32)]) -> Step {
    Step::Doc(heading, nth, exits.to_vec())
}

/// How the page's placeholders and terminal input become the scenario's.
struct Walk<'a> {
    ctx: &'a Ctx,
    /// (placeholder, value), applied to commands and shown output alike.
    subs: Vec<(String, String)>,
    /// Console commands (by how they start) run on a terminal, and what is
    /// typed into it.
    typed: Vec<(String, String)>,
}

/// What the walk printed: each `sh` block's output, by (heading, number).
struct Transcript {
    sh: BTreeMap<(String, usize), String>,
}

impl Transcript {
    fn sh(&self, heading: &str, nth: usize) -> &str {
        self.sh
            .get(&(heading.to_string(), nth))
            .unwrap_or_else(|| panic!("block #{nth} under \"{heading}\" did not run"))
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Walk<'_> {
    fn new(ctx: &Ctx) -> Walk<'_> {
        Walk {
            ctx,
            subs: Vec::new(),
            typed: Vec::new(),
        }
    }

    fn sub(mut self, placeholder: &str, value: &str) -> Self {
        self.subs.push((placeholder.to_string(), value.to_string()));
        self
    }

    fn typed(mut self, command_start: &str, input: &str) -> Self {
        self.typed
            .push((command_start.to_string(), input.to_string()));
        self
    }

    fn substitute(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (placeholder, value) in &self.subs {
            text = text.replace(placeholder.as_str(), value);
        }
        text
    }

    /// Output with each placeholder (as the page shows it) or each value
    /// (as a command prints it) replaced by a token of its own, so that a
    /// substituted value must be printed exactly, where the comparison
    /// takes any other hex run for any other.
    fn tokens(&self, text: &str, page: bool) -> String {
        let mut text = text.to_string();
        for (i, (placeholder, value)) in self.subs.iter().enumerate() {
            let from = if page { placeholder } else { value };
            if !from.is_empty() {
                text = text.replace(from.as_str(), &format!("<value-{}>", "x".repeat(i + 1)));
            }
        }
        text
    }

    /// Runs `steps` in one `bash -e` in `dir`, then compares every console
    /// command's output with what the page shows.
    fn run(&self, dir: &Path, steps: &[Step]) -> Transcript {
        let out = self.ctx.root.join(format!(
            "walk-{}",
            dir.file_name().unwrap().to_string_lossy()
        ));
        let _ = fs::remove_dir_all(&out);
        fs::create_dir(&out).unwrap();
        let q = |p: &Path| quote(p.to_str().expect("UTF-8 path"));
        let mut script = String::from("set -e\n");
        // (step, command, block, exit status wanted, output shown)
        let mut checks: Vec<(String, Block, Shown, i32)> = Vec::new();
        let mut shs: Vec<(String, Block)> = Vec::new();
        for (k, step) in steps.iter().enumerate() {
            match step {
                Step::Hook(shell) => {
                    script.push_str(&format!("echo 'test hook {k}' >{}\n", q(&out.join("at"))));
                    script.push_str(shell);
                    script.push('\n');
                }
                Step::Doc(heading, nth, exits) => {
                    let b = block(heading, *nth);
                    let at = format!("{} (step {k})", b.id());
                    script.push_str(&format!("echo {} >{}\n", quote(&at), q(&out.join("at"))));
                    match b.lang.as_str() {
                        "sh" => {
                            let file = out.join(format!("{k}.out"));
                            script.push_str(&format!(
                                "{{\n{}\n}} </dev/null >{} 2>&1\n",
                                self.substitute(&b.text),
                                q(&file)
                            ));
                            shs.push((format!("{k}.out"), b.clone()));
                        }
                        "console" => {
                            for (j, shown) in console_commands(&b).into_iter().enumerate() {
                                let command = self.substitute(&shown.command);
                                let want = exits
                                    .iter()
                                    .find(|(start, _)| command.starts_with(start))
                                    .map_or(0, |(_, code)| *code);
                                let name = format!("{k}.{j}");
                                let run = match self
                                    .typed
                                    .iter()
                                    .find(|(start, _)| command.starts_with(start.as_str()))
                                {
                                    Some((_, input)) => format!(
                                        "printf %s {} | script -qec {} /dev/null",
                                        quote(input),
                                        quote(&command)
                                    ),
                                    None => command.clone(),
                                };
                                script.push_str(&format!(
                                    "set +e\n{{\n{run}\n}} </dev/null >{out} 2>&1\necho $? >{rc}\nset -e\n\
                                     [ \"$(cat {rc})\" = {want} ] || exit 97\n",
                                    out = q(&out.join(format!("{name}.out"))),
                                    rc = q(&out.join(format!("{name}.rc"))),
                                ));
                                let shown = Shown {
                                    command,
                                    output: shown
                                        .output
                                        .iter()
                                        .map(|l| self.tokens(l, true))
                                        .collect(),
                                };
                                checks.push((name, b.clone(), shown, want));
                            }
                        }
                        other => panic!("{}: a {other:?} block is not something to run", b.id()),
                    }
                }
            }
        }
        let file = out.join("walk.sh");
        fs::write(&file, &script).unwrap();
        let mut cmd = self.ctx.command_with_git_env("bash", dir);
        cmd.arg("-e").arg(&file).env("SHELL", "/bin/bash").env(
            "PATH",
            format!(
                "{}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
                sigtag_bin(self.ctx).display()
            ),
        );
        let run = Ctx::run_cmd(cmd);
        let read = |name: &str| fs::read_to_string(out.join(name)).unwrap_or_default();
        if run.code != 0 {
            let at = read("at");
            let mut detail = String::new();
            for (name, _, shown, want) in &checks {
                if out.join(format!("{name}.rc")).exists() {
                    detail = format!(
                        "$ {}\n(wanted exit {want}, got {})\n{}",
                        shown.command,
                        read(&format!("{name}.rc")).trim(),
                        read(&format!("{name}.out"))
                    );
                }
            }
            for (name, b) in &shs {
                if at.trim().starts_with(&b.id()) {
                    detail = read(name);
                }
            }
            panic!(
                "the walk-through stopped (exit {}) at {}\n{detail}\nstdout:\n{}\nstderr:\n{}",
                run.code,
                at.trim(),
                run.stdout,
                run.stderr
            );
        }
        for (name, b, shown, _) in &checks {
            let printed = self.tokens(&read(&format!("{name}.out")).replace('\r', ""), false);
            assert_shows(b, shown, &printed);
        }
        Transcript {
            sh: shs
                .into_iter()
                .map(|(name, b)| ((b.heading.clone(), b.nth), read(&name)))
                .collect(),
        }
    }
}

/// `printed` holds every line the page shows for the command, in order.
fn assert_shows(b: &Block, shown: &Shown, printed: &str) {
    let context = || {
        format!(
            "{}: `$ {}` printed:\n{printed}\nthe page shows:\n{}",
            b.id(),
            shown.command,
            shown.output.join("\n")
        )
    };
    if shown.output.is_empty() {
        assert_eq!(printed, "", "{}", context());
        return;
    }
    let actual: Vec<String> = printed.lines().map(normalize).collect();
    let mut at = 0;
    for want in &shown.output {
        let want = normalize(want);
        match actual[at..].iter().position(|l| *l == want) {
            Some(i) => at += i + 1,
            None => panic!("missing line {want:?}\n{}", context()),
        }
    }
}

/// A directory holding `sigtag` (the binary under test) for PATH.
fn sigtag_bin(ctx: &Ctx) -> PathBuf {
    let dir = ctx.root.join("bin");
    if !dir.exists() {
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sigtag"), dir.join("sigtag")).unwrap();
    }
    dir
}

// ------------------------------------------------------------- the scenario

/// A software signing key `Name <name@example.org>` (the page's people
/// have capitalised names; the signer's file is `name.asc`).
fn person(ctx: &Ctx, name: &str) -> Key {
    let mut display = name.to_string();
    display[..1].make_ascii_uppercase();
    Key {
        name: name.to_string(),
        fpr: gpg::gen_key(
            &ctx.home,
            &format!("{display} <{name}@example.org>"),
            &gpg::NewKey::default(),
        ),
    }
}

/// The page's world, up to the moment Bob starts: release-config/keys
/// (a link to the context's keys directory) with the page's policy;
/// origin.git; Alice's signed v1.4.0 on the merge commit of pull request
/// #42; Bob's clone, made then; Carol's co-signature, pushed from her own
/// clone afterwards.
struct Team {
    ctx: Ctx,
    staging: Key,
    /// Bob's key, unless it is on the card.
    bob: Option<Key>,
    origin: PathBuf,
    bob_dir: PathBuf,
    commit: String,
    alice_layer: String,
    carol_layer: String,
}

impl Team {
    /// Bob signs with a software key, or with `card` (whose certificate
    /// then is keys/bob.asc).
    fn new(card: Option<&Provisioned>) -> Team {
        let ctx = Ctx::new();
        configure_gnupg_home(&ctx.home);
        let (alice, carol, staging) = (
            person(&ctx, "alice"),
            person(&ctx, "carol"),
            person(&ctx, "staging"),
        );
        for k in [&alice, &carol, &staging] {
            ctx.trust(k);
        }
        let bob = match card {
            Some(card) => {
                card.trust_as(&ctx.keys, "bob");
                None
            }
            None => {
                let bob = person(&ctx, "bob");
                ctx.trust(&bob);
                Some(bob)
            }
        };
        the_pages_policy(&ctx);
        let config = ctx.root.join("release-config");
        fs::create_dir(&config).unwrap();
        std::os::unix::fs::symlink(&ctx.keys, config.join("keys")).unwrap();

        let origin = ctx.root.join("origin.git");
        ctx.git_in(&ctx.root, &["init", "-q", "--bare", "origin.git"]);
        let clone = |who: &str, display: &str| -> PathBuf {
            ctx.git_in(&ctx.root, &["clone", "-q", "origin.git", who]);
            let dir = ctx.root.join(who);
            ctx.git_in(&dir, &["config", "user.name", display]);
            ctx.git_in(
                &dir,
                &["config", "user.email", &format!("{who}@example.org")],
            );
            dir
        };
        let alice_dir = clone("alice", "Alice");
        fs::write(alice_dir.join("README"), "hello\n").unwrap();
        ctx.git_in(&alice_dir, &["add", "README"]);
        ctx.git_in(&alice_dir, &["commit", "-q", "-m", "Initial commit"]);
        ctx.git_in(&alice_dir, &["checkout", "-q", "-b", "feature"]);
        fs::write(alice_dir.join("feature.txt"), "feature\n").unwrap();
        ctx.git_in(&alice_dir, &["add", "feature.txt"]);
        ctx.git_in(&alice_dir, &["commit", "-q", "-m", "Add feature"]);
        ctx.git_in(&alice_dir, &["checkout", "-q", "main"]);
        ctx.git_in(
            &alice_dir,
            &["merge", "-q", "--no-ff", "-m", MERGE_SUBJECT, "feature"],
        );
        ctx.git_tag_s(
            &alice_dir,
            &alice,
            &["-m", "v1.4.0: pull request #42", "v1.4.0", "HEAD"],
            &Sig::default(),
        );
        ctx.git_in(&alice_dir, &["push", "-q", "origin", "main", "v1.4.0"]);
        let commit = ctx.rev_parse_in(&alice_dir, "HEAD^{commit}");
        let alice_layer = ctx.rev_parse_in(&alice_dir, "refs/tags/v1.4.0");

        let bob_dir = clone("bob", "Bob");
        let carol_dir = clone("carol", "Carol");
        ctx.git_tag_s(
            &carol_dir,
            &carol,
            &["-f", "-m", "v1.4.0: co-signed by Carol", "v1.4.0", "v1.4.0"],
            &Sig::default(),
        );
        ctx.git_in(
            &carol_dir,
            &[
                "push",
                "-q",
                &format!("--force-with-lease=refs/tags/v1.4.0:{alice_layer}"),
                "origin",
                "refs/tags/v1.4.0",
            ],
        );
        let carol_layer = ctx.rev_parse_in(&origin, "refs/tags/v1.4.0");
        assert_ne!(carol_layer, alice_layer);
        assert_eq!(
            ctx.rev_parse_in(&bob_dir, "refs/tags/v1.4.0"),
            alice_layer,
            "Bob's clone holds the tag as it was before Carol pushed"
        );
        Team {
            ctx,
            staging,
            bob,
            origin,
            bob_dir,
            commit,
            alice_layer,
            carol_layer,
        }
    }

    /// The tag on origin: its outer layer equals Bob's, and the chain is
    /// judged `env`'s way with exactly `signers` (name, layer).
    fn assert_origin(&self, env: &str, signers_wanted: &[(&str, u64)]) {
        let ctx = &self.ctx;
        assert_eq!(
            ctx.rev_parse_in(&self.origin, "refs/tags/v1.4.0"),
            ctx.rev_parse_in(&self.bob_dir, "refs/tags/v1.4.0"),
            "origin holds Bob's tag"
        );
        let r = ctx.verify_in(&self.origin, env, &["v1.4.0"]).1.remove(0);
        r.assert_clean(signers_wanted);
        assert_eq!(r.commit().as_deref(), Some(self.commit.as_str()));
    }
}

/// The page's policy.toml, as the page shows it.
fn the_pages_policy(ctx: &Ctx) {
    let toml: Vec<Block> = blocks().into_iter().filter(|b| b.lang == "toml").collect();
    let places: Vec<(&str, usize)> = toml.iter().map(|b| (b.heading.as_str(), b.nth)).collect();
    assert_eq!(
        places,
        [(DAY, 1), (FIDO_PUT, 3)],
        "the policy, and the FIDO section's [ssh] table: {toml:?}"
    );
    ctx.policy(&toml[0].text);
}

/// The FIDO section's `[ssh]` table, added to the page's policy.toml.
fn the_pages_ssh_table(ctx: &Ctx) {
    let b = block(FIDO_PUT, 3);
    assert_eq!(b.lang, "toml", "{}", b.id());
    let file = ctx.keys.join("policy.toml");
    let mut policy = fs::read_to_string(&file).unwrap();
    policy.push('\n');
    policy.push_str(&b.text);
    fs::write(file, policy).unwrap();
}

/// Bob's fetches: the plain ones leave his stale tag alone, the forced
/// one brings Carol's layer.
fn fetch_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let is = |layer: &str, what: &str| {
        Step::Hook(format!(
            "[ \"$(git rev-parse refs/tags/v1.4.0)\" = {layer} ] || \
             {{ echo {}; exit 1; }}",
            quote(&format!("v1.4.0 is not {what}"))
        ))
    };
    vec![
        doc_exits(
            FETCH,
            1,
            &[("git fetch origin 'refs/tags/*:refs/tags/*'", 1)],
        ),
        is(alice_layer, "still Alice's layer after the plain fetches"),
        doc(FETCH, 2),
        is(carol_layer, "Carol's layer after the forced fetch"),
    ]
}

fn see_steps() -> Vec<Step> {
    vec![
        doc(SEE, 1),
        doc(SEE, 2),
        doc_exits(SEE, 3, &[("sigtag explain", 1)]),
    ]
}

fn agent_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fetch_steps(alice_layer, carol_layer);
    steps.extend(see_steps());
    steps.push(doc(AGENT, 1));
    steps.push(doc(AFTER, 1));
    steps
}

fn card_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fetch_steps(alice_layer, carol_layer);
    steps.push(doc(CARD, 1));
    steps.push(doc(AFTER, 1));
    steps
}

fn plain_git_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fetch_steps(alice_layer, carol_layer);
    steps.extend(see_steps());
    steps.extend([
        doc(GIT, 1),
        doc(GIT, 2),
        doc(GIT, 3),
        doc_exits(GIT, 4, &[("git push origin v1.4.0", 1)]),
        doc(AFTER, 1),
    ]);
    steps
}

/// The staging pipeline counter-signs from its own clone while Bob signs
/// by hand: his compare-and-swap is refused, he takes the new chain and
/// signs again.
fn race_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fetch_steps(alice_layer, carol_layer);
    steps.extend([
        doc(GIT, 1),
        doc(GIT, 3),
        Step::Hook(
            "(cd ../pipeline && git fetch -q --force origin tag v1.4.0 && \
             sigtag cosign v1.4.0 --key ../staging.sec.asc --keys ../release-config/keys --push origin) \
             >../race.log 2>&1 || { cat ../race.log; exit 1; }"
                .to_string(),
        ),
        doc_exits(GIT, 5, &[("git push --force-with-lease", 1)]),
        doc(GIT, 3),
        doc_exits(GIT, 4, &[("git push origin v1.4.0", 1)]),
    ]);
    steps
}

/// The FIDO reviewer: Bob's key made on the token (sk-dummy) and put in
/// the keys directory; Bob's gpg-made bob.asc is gone, so only the FIDO
/// layer can count for him.
fn fido_setup_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fetch_steps(alice_layer, carol_layer);
    steps.extend([
        Step::Hook("mkdir -p -m 700 ~/.ssh && rm ../release-config/keys/bob.asc".to_string()),
        doc(FIDO_MAKE, 1),
        doc(FIDO_PUT, 1),
        doc(FIDO_PUT, 2),
    ]);
    steps
}

/// The FIDO reviewer with plain git, then the token lost.
fn fido_git_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fido_setup_steps(alice_layer, carol_layer);
    steps.extend([
        doc(FIDO_GIT, 1),
        doc(FIDO_GIT, 2),
        doc(FIDO_CHECK, 1),
        doc(AFTER, 1),
        doc(FIDO_LOST, 1),
        doc_exits(FIDO_LOST, 2, &[("sigtag verify", 1)]),
    ]);
    steps
}

/// The FIDO reviewer with sigtag through ssh-agent; the agent started
/// for the walk, allowed to load sk-dummy, and stopped when it ends.
fn fido_agent_steps(alice_layer: &str, carol_layer: &str) -> Vec<Step> {
    let mut steps = fido_setup_steps(alice_layer, carol_layer);
    steps.extend([
        Step::Hook(
            "eval \"$(ssh-agent -s -P \"$SSH_SK_PROVIDER\")\" >/dev/null\n\
             trap 'ssh-agent -k >/dev/null 2>&1' EXIT"
                .to_string(),
        ),
        doc(FIDO_AGENT, 1),
        doc(FIDO_AGENT, 2),
        doc(FIDO_CHECK, 1),
    ]);
    steps
}

fn once_steps() -> Vec<Step> {
    vec![doc(ONCE, 1), doc(ONCE, 2)]
}

fn developer_steps() -> Vec<Step> {
    vec![doc(DEVELOPERS, 1)]
}

/// The page's names for the card and the key, as the scenario has them.
fn card_walk<'a>(ctx: &'a Ctx, card: &Provisioned) -> Walk<'a> {
    Walk::new(ctx)
        .sub("0006:12345678", &card.ident)
        .sub("FPR", &card.fpr())
}

// ------------------------------------------------------------- the tests

#[test]
fn every_block_of_the_page_runs_in_a_test() {
    let mut ran: Vec<(String, usize)> = vec![(DAY.to_string(), 1), (FIDO_PUT.to_string(), 3)];
    for steps in [
        fido_git_steps("a", "c"),
        fido_agent_steps("a", "c"),
        once_steps(),
        agent_steps("a", "c"),
        card_steps("a", "c"),
        plain_git_steps("a", "c"),
        race_steps("a", "c"),
        developer_steps(),
    ] {
        for step in steps {
            if let Step::Doc(heading, nth, _) = step {
                ran.push((heading.to_string(), nth));
            }
        }
    }
    for b in blocks() {
        assert!(
            ["sh", "console", "toml"].contains(&b.lang.as_str()),
            "{}: a block of language {:?}; mark commands `sh` or `console` so that they run",
            b.id(),
            b.lang
        );
        assert!(
            ran.contains(&(b.heading.clone(), b.nth)),
            "{} runs in no test of tests/hardware_tokens_doc.rs",
            b.id()
        );
    }
}

/// "Once": the card's certificate, exported by gpg, is the signer's file,
/// and `sigtag card list` says whose key the card holds.
#[test]
fn the_cards_certificate_goes_into_the_keys_directory() {
    let _card = card_lock();
    let ctx = Ctx::new();
    configure_gnupg_home(&ctx.home);
    // gpg made the card's key, so gpg has its certificate.
    let card = provision("alice", "Example<<Alice", false);
    gpg_import(&ctx.home, &card.armored());
    for name in ["bob", "carol", "staging"] {
        ctx.trust(&person(&ctx, name));
    }
    the_pages_policy(&ctx);
    let config = ctx.root.join("release-config");
    fs::create_dir(&config).unwrap();
    std::os::unix::fs::symlink(&ctx.keys, config.join("keys")).unwrap();
    assert!(!ctx.keys.join("alice.asc").exists());

    let t = card_walk(&ctx, &card).run(&config, &once_steps());
    let status: String = t.sh(ONCE, 1).split_whitespace().collect();
    assert!(
        status.contains(&card.fpr()),
        "gpg --card-status shows the signing key's fingerprint:\n{}",
        t.sh(ONCE, 1)
    );
    let exported = fs::read(ctx.keys.join("alice.asc")).unwrap();
    let cert = sequoia_openpgp::Cert::from_bytes(&exported).expect("a certificate");
    assert_eq!(cert.fingerprint().to_hex(), card.fpr());

    // What the plain-git section reads from gpg is the same for a key on
    // the card: its fingerprint first, and the plain listing marks it.
    let colons = ctx.gpg(&["--list-secret-keys", "--with-colons", &card.fpr()]);
    let first = String::from_utf8_lossy(&colons)
        .lines()
        .find(|l| l.starts_with("fpr:"))
        .map(str::to_string);
    assert_eq!(first, Some(format!("fpr:::::::::{}:", card.fpr())));
    let plain =
        String::from_utf8_lossy(&ctx.gpg(&["--list-secret-keys", &card.fpr()])).into_owned();
    assert!(
        plain.starts_with("sec>") || plain.contains("\nsec>"),
        "{plain}"
    );
}

/// The reviewer with sigtag and gpg-agent (a software key in the agent).
#[test]
fn the_reviewer_cosigns_through_gpg_agent() {
    let t = Team::new(None);
    Walk::new(&t.ctx).run(&t.bob_dir, &agent_steps(&t.alice_layer, &t.carol_layer));
    t.assert_origin("staging", &[("alice", 1), ("carol", 2), ("bob", 3)]);
}

/// The reviewer with sigtag and the card, the PIN typed on a terminal and
/// the card asking for a touch.
#[test]
fn the_reviewer_cosigns_on_the_card() {
    let _card = card_lock();
    let card = provision("bob", "Example<<Bob", true);
    let t = Team::new(Some(&card));
    card_walk(&t.ctx, &card)
        .typed("sigtag cosign v1.4.0 --card", &format!("{USER_PIN}\n"))
        .run(&t.bob_dir, &card_steps(&t.alice_layer, &t.carol_layer));
    t.assert_origin("staging", &[("alice", 1), ("carol", 2), ("bob", 3)]);
    assert_eq!(pin_tries_left(), 3, "the PIN was right the first time");
}

/// The reviewer with nothing but git and gpg: git's key is checked
/// against keys/bob.asc, the layer is a tag of the tag, the plain push is
/// refused and the compare-and-swap moves origin's tag.
#[test]
fn the_reviewer_cosigns_with_plain_git() {
    let t = Team::new(None);
    let bob = t.bob.as_ref().expect("Bob's software key");
    Walk::new(&t.ctx)
        .sub("FPR", &bob.fpr)
        .run(&t.bob_dir, &plain_git_steps(&t.alice_layer, &t.carol_layer));
    t.assert_origin("staging", &[("alice", 1), ("carol", 2), ("bob", 3)]);
    // git made the layer: a tag object on Carol's, signed by Bob's key.
    let outer = t.ctx.git_in(&t.origin, &["cat-file", "tag", "v1.4.0"]);
    assert!(
        outer.starts_with(&format!("object {}\ntype tag\ntag v1.4.0\n", t.carol_layer)),
        "{outer}"
    );
    let status = t
        .ctx
        .git_output(&t.origin, &["verify-tag", "--raw", "v1.4.0"]);
    assert!(
        String::from_utf8_lossy(&status.stderr).contains(&format!("VALIDSIG {}", bob.fpr)),
        "{status:?}"
    );
}

/// A co-signature pushed while Bob signs by hand: his compare-and-swap
/// is refused, nothing is lost, and his second layer lands on top.
#[test]
fn a_refused_compare_and_swap_loses_no_signature() {
    let t = Team::new(None);
    let ctx = &t.ctx;
    let bob = t.bob.as_ref().expect("Bob's software key");
    ctx.git_in(&ctx.root, &["clone", "-q", "origin.git", "pipeline"]);
    let key = ctx.secret_key_file(&t.staging);
    assert_eq!(key, ctx.root.join("staging.sec.asc"));
    Walk::new(ctx)
        .sub("FPR", &bob.fpr)
        .run(&t.bob_dir, &race_steps(&t.alice_layer, &t.carol_layer));
    t.assert_origin(
        "prod",
        &[("alice", 1), ("carol", 2), ("staging", 3), ("bob", 4)],
    );
}

/// "For developers and CI": the setup script, run again, finds
/// everything in place.
#[test]
fn the_developer_setup_runs() {
    let _card = card_lock();
    let ctx = Ctx::new();
    let mut walk = Walk::new(&ctx);
    if std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        walk = walk.sub("sudo ", "");
    }
    let t = walk.run(Path::new(env!("CARGO_MANIFEST_DIR")), &developer_steps());
    assert!(
        t.sh(DEVELOPERS, 1)
            .contains("token setup: ready: pcscd with the jcecard virtual OpenPGP card"),
        "{}",
        t.sh(DEVELOPERS, 1)
    );
}

/// The walk's environment for the FIDO commands: ssh-keygen (and git's
/// ssh-keygen, and ssh-add) reach sk-dummy through SSH_SK_PROVIDER, and
/// a verify-required key's PIN comes from an askpass program (sk-dummy
/// takes any PIN).
fn fido_env(lib: &Path) -> Step {
    Step::Hook(format!(
        "export SSH_SK_PROVIDER={} SSH_ASKPASS_REQUIRE=force SSH_ASKPASS=/bin/true\nunset SSH_AUTH_SOCK",
        quote(lib.to_str().expect("UTF-8 path"))
    ))
}

/// The fingerprint of the FIDO key the walk made, `SHA256:...`.
fn fido_fingerprint(ctx: &Ctx) -> String {
    let keys = Ctx::path_str(&ctx.keys);
    let run = ctx.sigtag(&["keys", "--keys", &keys, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let bob = report["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "bob")
        .unwrap_or_else(|| panic!("no bob in {report}"));
    bob["ssh_keys"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `steps` in Bob's clone with the FIDO environment, in two walks:
/// up to the page's putting the key in keys/bob.pub, then the rest, with
/// the page's fingerprint standing for the key the first walk made
/// (sk-dummy's keys are random).
fn fido_walk(t: &Team, lib: &Path, steps: Vec<Step>) -> Transcript {
    // Run the key-making part first, to learn the fingerprint.
    let mut first = vec![fido_env(lib)];
    let (setup, rest): (Vec<Step>, Vec<Step>) = {
        let mut setup = Vec::new();
        let mut rest = Vec::new();
        let mut done = false;
        for s in steps {
            let last = matches!(&s, Step::Doc(h, 1, _) if *h == FIDO_PUT);
            if done {
                rest.push(s);
            } else {
                setup.push(s);
            }
            done |= last;
        }
        (setup, rest)
    };
    first.extend(setup);
    Walk::new(&t.ctx).run(&t.bob_dir, &first);
    let fpr = fido_fingerprint(&t.ctx);
    let mut second = vec![fido_env(lib)];
    second.extend(rest);
    Walk::new(&t.ctx)
        .sub(FIDO_FPR, &fpr)
        .run(&t.bob_dir, &second)
}

/// The FIDO reviewer with plain git: the key made on the token (sk-dummy),
/// its public key in keys/bob.pub with a window, the page's [ssh] table,
/// the layer made by git tag -s and pushed; then the token lost and its
/// key revoked.
#[test]
fn the_fido_reviewer_cosigns_with_plain_git() {
    let Some(lib) = ssh_support::sk_dummy() else {
        return;
    };
    let t = Team::new(None);
    the_pages_ssh_table(&t.ctx);
    fido_walk(&t, &lib, fido_git_steps(&t.alice_layer, &t.carol_layer));
    let ctx = &t.ctx;
    // git made the layer on Carol's, SSH-signed with the FIDO key, with a
    // touch and the PIN.
    let outer = ctx.git_in(&t.origin, &["cat-file", "tag", "v1.4.0"]);
    assert!(
        outer.starts_with(&format!("object {}\ntype tag\ntag v1.4.0\n", t.carol_layer)),
        "{outer}"
    );
    let at = outer
        .find("-----BEGIN SSH SIGNATURE-----")
        .expect("an SSH layer");
    let sig = sigtag::verify::ssh::sshsig::parse(format!("{}\n", &outer[at..]).as_bytes()).unwrap();
    let flags = sig.sk.expect("a FIDO signature").flags;
    assert_eq!(
        flags & (ssh_support::FLAG_USER_PRESENT | ssh_support::FLAG_USER_VERIFIED),
        ssh_support::FLAG_USER_PRESENT | ssh_support::FLAG_USER_VERIFIED,
        "{flags:#04x}"
    );
    // Revoked, the key counts for nothing on origin either.
    let r = ctx.verify_in(&t.origin, "staging", &["v1.4.0"]).1.remove(0);
    assert!(!r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("carol", 2)]));
}

/// The FIDO reviewer with sigtag through ssh-agent: the agent holds the
/// token's key, `sigtag cosign --ssh-agent` signs and pushes.
#[test]
fn the_fido_reviewer_cosigns_with_sigtag_and_ssh_agent() {
    let Some(lib) = ssh_support::sk_dummy() else {
        return;
    };
    let t = Team::new(None);
    the_pages_ssh_table(&t.ctx);
    fido_walk(&t, &lib, fido_agent_steps(&t.alice_layer, &t.carol_layer));
    t.assert_origin("staging", &[("alice", 1), ("carol", 2), ("bob", 3)]);
}
