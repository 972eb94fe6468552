//! No Docker engine runs where these tests run, so this checks what the
//! image needs without one: the image is built with the command the project
//! builds with, from files the build context holds, with the packages the
//! build needs; its runtime stage installs every shared library the release
//! binary links against, and it installs the entry points Concourse calls.
//!
//! The last test builds the runtime stage's root filesystem with
//! mmdebstrap (cached under target/test-rootfs, rebuilt when the
//! Dockerfile's package list changes), installs the release binary the way
//! the Dockerfile does, and runs `/opt/resource/check` in it with no
//! environment at all.

mod resource_support;

use resource_support::{now, Run, World};
use serde_json::json;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Runs a program, panicking with its output unless it succeeds.
fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run(cmd).stdout).into_owned()
}

/// The Dockerfile with line continuations joined: one instruction a line.
fn instructions() -> Vec<String> {
    read("Dockerfile")
        .replace("\\\n", " ")
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The instructions of the last stage (after its `FROM`).
fn runtime_stage() -> Vec<String> {
    let all = instructions();
    let from = all
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("the Dockerfile has a FROM");
    all[from + 1..].to_vec()
}

fn words_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in {text:?}"))
        + marker.len();
    text[start..]
        .split_whitespace()
        .take_while(|w| !w.starts_with("&&") && !w.starts_with('\\'))
        .collect()
}

/// The packages an `apt-get install` in `instruction` names (options left
/// out).
fn installed_by(instruction: &str) -> Vec<String> {
    words_after(instruction, "apt-get install")
        .into_iter()
        .filter(|w| !w.starts_with('-'))
        .map(str::to_string)
        .collect()
}

/// The packages the runtime stage installs.
fn runtime_packages() -> Vec<String> {
    let stage = runtime_stage();
    let apt: Vec<&String> = stage
        .iter()
        .filter(|l| l.contains("apt-get install"))
        .collect();
    assert_eq!(
        apt.len(),
        1,
        "the runtime stage installs its packages in one RUN: {stage:?}"
    );
    let packages = installed_by(apt[0]);
    assert!(!packages.is_empty(), "no package in {:?}", apt[0]);
    packages
}

/// The command `make build` runs.
fn make_build() -> String {
    let makefile = read("Makefile");
    makefile
        .lines()
        .skip_while(|l| !l.starts_with("build:"))
        .nth(1)
        .expect("the Makefile has a build target")
        .trim()
        .replace("$(CARGO)", "cargo")
}

#[test]
fn the_image_builds_with_the_projects_build_command() {
    let build = instructions()
        .into_iter()
        .find(|l| l.starts_with("RUN cargo build"))
        .expect("the Dockerfile runs cargo build");
    let docker_cmd = words_after(&build, "RUN ").join(" ");
    assert_eq!(
        docker_cmd,
        make_build(),
        "Dockerfile and `make build` differ"
    );
    assert!(
        docker_cmd.contains("--locked"),
        "the image must build from Cargo.lock"
    );
    // CI runs `make build`, so the image's build command is tested there.
    assert!(
        read(".ci/run").contains("make build"),
        ".ci/run must run make build"
    );
}

#[test]
fn the_builder_installs_the_build_packages() {
    let makefile = read("Makefile");
    let line = makefile
        .lines()
        .find(|l| l.starts_with("BUILD_PACKAGES :="))
        .expect("the Makefile lists BUILD_PACKAGES");
    let wanted: Vec<&str> = words_after(line, ":=");
    assert!(!wanted.is_empty(), "BUILD_PACKAGES is empty");
    let all = instructions();
    let from = all
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("a FROM");
    let builder: Vec<String> = all[..from]
        .iter()
        .filter(|l| l.contains("apt-get install"))
        .flat_map(|l| installed_by(l))
        .collect();
    for p in wanted {
        assert!(
            builder.iter().any(|w| w == p),
            "the builder stage lacks {p} (it installs {builder:?})"
        );
    }
}

// ------------------------------------------------------------- build context

/// One `.dockerignore` rule: a pattern, and whether it re-includes (`!`).
struct Ignore {
    segments: Vec<String>,
    include: bool,
}

fn dockerignore() -> Vec<Ignore> {
    read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (include, pattern) = match l.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, l),
            };
            assert!(
                !pattern.contains(['[', '\\']),
                ".dockerignore pattern {l:?} uses syntax this test does not read yet"
            );
            let segments = pattern
                .trim_matches('/')
                .split('/')
                .filter(|s| !s.is_empty() && *s != ".")
                .map(str::to_string)
                .collect();
            Ignore { segments, include }
        })
        .collect()
}

/// One path segment against a pattern segment with `*` and `?`.
fn segment_matches(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            segment_matches(rest, name)
                || name
                    .split_first()
                    .is_some_and(|(_, n)| segment_matches(pattern, n))
        }
        (Some((b'?', rest)), Some((_, n))) => segment_matches(rest, n),
        (Some((p, rest)), Some((c, n))) if p == c => segment_matches(rest, n),
        _ => false,
    }
}

/// Path segments against pattern segments, `**` matching any number.
fn path_matches(pattern: &[String], path: &[&str]) -> bool {
    match (pattern.split_first(), path.split_first()) {
        (None, None) => true,
        (Some((p, rest)), _) if p == "**" => {
            path_matches(rest, path)
                || path
                    .split_first()
                    .is_some_and(|(_, more)| path_matches(pattern, more))
        }
        (Some((p, rest)), Some((s, more))) => {
            segment_matches(p.as_bytes(), s.as_bytes()) && path_matches(rest, more)
        }
        _ => false,
    }
}

/// Whether Docker leaves `path` (relative to the context) out of the build
/// context: the last rule matching it or a directory above it decides.
fn excluded(rules: &[Ignore], path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = false;
    for rule in rules {
        if (1..=segments.len()).any(|n| path_matches(&rule.segments, &segments[..n])) {
            out = !rule.include;
        }
    }
    out
}

#[test]
fn the_dockerignore_reader_reads_patterns_as_docker_does() {
    let rules = |text: &str| -> Vec<Ignore> {
        text.lines()
            .map(|l| {
                let (include, p) = match l.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, l),
                };
                Ignore {
                    segments: p.trim_matches('/').split('/').map(str::to_string).collect(),
                    include,
                }
            })
            .collect()
    };
    let r = rules("target\n*.md\n!README.md\ndocs/**/*.png");
    assert!(excluded(&r, "target"));
    assert!(excluded(&r, "target/release/sigtag"));
    assert!(!excluded(&r, "src/target.rs"));
    assert!(excluded(&r, "NOTES.md"));
    assert!(!excluded(&r, "README.md"));
    assert!(!excluded(&r, "docs/README.md"), "*.md is for the top only");
    assert!(excluded(&r, "docs/a/b/x.png"));
    assert!(!excluded(&r, "docs/x.pngs"));
}

/// The source paths of the `COPY` instructions that read the build context
/// (not `--from` another stage), relative to it.
fn copied_from_context() -> Vec<String> {
    let mut out = Vec::new();
    for line in instructions() {
        let Some(args) = line.strip_prefix("COPY ") else {
            continue;
        };
        let words: Vec<&str> = args.split_whitespace().collect();
        if words.iter().any(|w| w.starts_with("--from")) {
            continue;
        }
        let paths: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !w.starts_with("--"))
            .collect();
        assert!(
            paths.len() >= 2,
            "COPY needs a source and a destination: {line}"
        );
        for p in &paths[..paths.len() - 1] {
            let p = p.trim_start_matches("./").trim_end_matches('/');
            out.push(if p.is_empty() {
                ".".to_string()
            } else {
                p.to_string()
            });
        }
    }
    assert!(
        !out.is_empty(),
        "the Dockerfile copies nothing from the context"
    );
    out
}

/// Files below `dir` (relative to the repository), as git tracks them.
fn tracked(dir: &str) -> Vec<String> {
    stdout(
        Command::new("git")
            .current_dir(root())
            .args(["ls-files", "-z", "--", dir]),
    )
    .split('\0')
    .filter(|f| !f.is_empty())
    .map(str::to_string)
    .collect()
}

/// The files `include_str!`/`include_bytes!` in `src` read, relative to the
/// repository (test modules' too: this does not tell them apart, so it
/// asks for a little more than a release build reads).
fn included_by_sources() -> Vec<String> {
    let mut out = Vec::new();
    for file in tracked("src").into_iter().filter(|f| f.ends_with(".rs")) {
        let text = read(&file);
        for macro_name in ["include_str!(\"", "include_bytes!(\""] {
            for (at, _) in text.match_indices(macro_name) {
                let rest = &text[at + macro_name.len()..];
                let arg = &rest[..rest.find('"').expect("a closing quote")];
                let dir = Path::new(&file).parent().expect("a directory");
                let joined = dir.join(arg);
                let mut parts: Vec<&str> = Vec::new();
                for seg in joined.to_str().expect("UTF-8").split('/') {
                    match seg {
                        ".." => {
                            parts.pop();
                        }
                        "." | "" => {}
                        s => parts.push(s),
                    }
                }
                out.push(parts.join("/"));
            }
        }
    }
    out
}

#[test]
fn the_build_context_holds_what_the_build_needs() {
    let rules = dockerignore();
    let copied = copied_from_context();
    for source in &copied {
        if source != "." {
            assert!(
                root().join(source).exists(),
                "the Dockerfile copies {source}, which is missing"
            );
        }
        assert!(
            source == "." || !excluded(&rules, source),
            "the Dockerfile copies {source}, which .dockerignore excludes"
        );
    }
    // What `cargo build --release` reads: the manifest, the lock file,
    // every source file, and every file a source file includes.
    let mut needed = vec!["Cargo.toml".to_string(), "Cargo.lock".to_string()];
    needed.extend(tracked("src"));
    needed.extend(included_by_sources());
    if root().join("build.rs").exists() {
        needed.push("build.rs".to_string());
    }
    assert!(needed.iter().any(|f| f == "src/main.rs"), "{needed:?}");
    for file in &needed {
        assert!(root().join(file).is_file(), "{file} is missing");
        let under_a_copy = copied
            .iter()
            .any(|c| c == "." || file == c || file.starts_with(&format!("{c}/")));
        assert!(under_a_copy, "no COPY brings {file} into the image's build");
        assert!(
            !excluded(&rules, file),
            "{file} is needed by the build, and .dockerignore excludes it"
        );
    }
    // Cargo.toml must not point at anything the context leaves out.
    let manifest = read("Cargo.toml");
    for line in manifest.lines() {
        for quoted in line.split('"').skip(1).step_by(2) {
            if quoted.contains('/') && root().join(quoted).exists() {
                assert!(
                    !excluded(&rules, quoted),
                    "Cargo.toml refers to {quoted}, which .dockerignore excludes"
                );
            }
        }
    }
}

#[test]
fn the_image_installs_the_entry_points_concourse_calls() {
    let stage = runtime_stage().join("\n");
    assert!(
        stage.contains("COPY --from=builder /src/target/release/sigtag /usr/local/bin/sigtag"),
        "the image must ship the release binary as /usr/local/bin/sigtag"
    );
    assert!(
        stage.contains("mkdir -p /opt/resource"),
        "the image must create /opt/resource"
    );
    for role in ["check", "in", "out"] {
        assert!(
            stage.contains(&format!("ln -s /usr/local/bin/sigtag /opt/resource/{role}")),
            "/opt/resource/{role} is not installed"
        );
    }
    assert!(
        runtime_packages().iter().any(|p| p == "ca-certificates"),
        "the image needs CA certificates for https"
    );
}

// ------------------------------------------------------------- the binary

/// The release binary, built with `make build`'s command once per run of
/// this file.
fn release_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let words = make_build();
        let mut words = words.split_whitespace();
        assert_eq!(words.next(), Some("cargo"), "make build runs cargo");
        run(Command::new(env!("CARGO"))
            .current_dir(root())
            .args(words)
            .env_remove("CARGO_TARGET_DIR"));
        let binary = root().join("target/release/sigtag");
        assert!(binary.is_file(), "make build made no {}", binary.display());
        binary
    })
}

/// The shared libraries `binary` names in its dynamic section (NEEDED).
fn needed_libraries(binary: &Path) -> Vec<String> {
    let text = stdout(Command::new("readelf").arg("-d").arg(binary));
    let libs: Vec<String> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split_once('[')?.1.split_once(']')?.0.to_string()))
        .collect();
    assert!(!libs.is_empty(), "readelf found no NEEDED entry:\n{text}");
    libs
}

/// Where the dynamic loader finds each library `binary` needs, from ldd.
fn resolved_libraries(binary: &Path) -> Vec<(String, PathBuf)> {
    let text = stdout(Command::new("ldd").arg(binary));
    needed_libraries(binary)
        .into_iter()
        .map(|lib| {
            let path = text
                .lines()
                .filter_map(|l| l.trim().split_once(" => "))
                .find(|(name, _)| *name == lib)
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .filter(|p| p.starts_with('/'))
                .unwrap_or_else(|| panic!("ldd does not find {lib}:\n{text}"));
            (lib, PathBuf::from(path))
        })
        .collect()
}

/// The Debian package that installed `path` (`dpkg -S`), trying the path
/// both with and without the /usr prefix (merged /usr).
fn owning_package(path: &Path) -> String {
    let path = path.to_str().expect("UTF-8 path");
    let canonical = fs::canonicalize(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string());
    let mut candidates = Vec::new();
    for p in [path.to_string(), canonical] {
        candidates.push(p.clone());
        match p.strip_prefix("/usr") {
            Some(rest) => candidates.push(rest.to_string()),
            None => candidates.push(format!("/usr{p}")),
        }
    }
    for c in &candidates {
        let out = Command::new("dpkg")
            .args(["-S", c])
            .output()
            .expect("dpkg runs");
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text.lines().next().expect("a line");
            let package = line.split_once(':').expect("PACKAGE: PATH").0;
            return package
                .split(',')
                .next()
                .expect("a package")
                .trim()
                .to_string();
        }
    }
    panic!("no Debian package owns {path} (tried {candidates:?})");
}

/// The installed packages' names with their dependencies (Pre-Depends and
/// Depends, every alternative), and the Essential ones.
fn package_graph() -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let text = stdout(Command::new("dpkg-query").args([
        "-W",
        "-f=${Package}\t${Essential}\t${Pre-Depends}, ${Depends}\n",
    ]));
    let mut graph = Vec::new();
    let mut essential = Vec::new();
    for line in text.lines() {
        let mut cols = line.splitn(3, '\t');
        let (Some(name), Some(ess), Some(deps)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let deps = deps
            .split([',', '|'])
            .filter_map(|d| d.split_whitespace().next())
            .map(|d| d.split(':').next().unwrap_or(d).to_string())
            .collect();
        if ess == "yes" {
            essential.push(name.to_string());
        }
        graph.push((name.to_string(), deps));
    }
    (graph, essential)
}

/// Every package `roots` bring in, themselves included.
fn closure(graph: &[(String, Vec<String>)], roots: &[String]) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    while let Some(p) = todo.pop() {
        if !seen.insert(p.clone()) {
            continue;
        }
        if let Some((_, deps)) = graph.iter().find(|(n, _)| *n == p) {
            todo.extend(deps.iter().cloned());
        }
    }
    seen
}

#[test]
fn the_runtime_stage_installs_every_library_the_binary_links() {
    let binary = release_binary();
    let packages = runtime_packages();
    let (graph, essential) = package_graph();
    // debian:bookworm-slim holds the Essential packages and what they
    // depend on; the runtime stage adds its own and their dependencies.
    let mut roots = essential.clone();
    roots.extend(packages.iter().cloned());
    let present = closure(&graph, &roots);
    let base = closure(&graph, &essential);
    let mut named = Vec::new();
    for (lib, path) in resolved_libraries(binary) {
        let package = owning_package(&path);
        assert!(
            present.contains(&package),
            "the release binary links {lib} ({}), from the Debian package {package}, \
             which the runtime stage does not install (it installs {packages:?})",
            path.display()
        );
        if !base.contains(&package) {
            named.push(package);
        }
    }
    // What the base image lacks, the stage names itself, not through
    // another package's dependencies.
    for package in &named {
        assert!(
            packages.contains(package),
            "the runtime stage gets {package} only as a dependency; name it"
        );
    }
}

// ------------------------------------------------------------- the rootfs

const MIRROR: &str = "http://deb.debian.org/debian";
const SUITE: &str = "bookworm";

/// Fails, saying so, when the mirror's host cannot be reached (unless a
/// proxy is configured, which mmdebstrap's apt then uses).
fn mirror_reachable() {
    use std::net::{TcpStream, ToSocketAddrs};
    if ["http_proxy", "HTTP_PROXY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return;
    }
    let authority = MIRROR
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .expect("an http:// mirror");
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let reached = address
        .to_socket_addrs()
        .map_err(|e| e.to_string())
        .and_then(|mut a| {
            let a = a.next().ok_or("no address")?;
            TcpStream::connect_timeout(&a, std::time::Duration::from_secs(10))
                .map_err(|e| e.to_string())
        });
    if let Err(e) = reached {
        panic!(
            "the Debian mirror {MIRROR} is not reachable from this machine ({e}): this test \
             builds the image's runtime root filesystem from it and cannot check the image without it"
        );
    }
}

/// The runtime stage's root filesystem, built with mmdebstrap from the
/// Dockerfile's package list under target/test-rootfs and kept there until
/// that list changes.
fn runtime_rootfs() -> PathBuf {
    let cache = root().join("target").join("test-rootfs");
    let dir = cache.join("root");
    let stamp = cache.join("packages");
    let list = format!(
        "{SUITE} {MIRROR} minbase {}\n",
        runtime_packages().join(",")
    );
    if fs::read_to_string(&stamp).ok().as_deref() == Some(list.as_str()) && dir.is_dir() {
        return dir;
    }
    let mmdebstrap = Command::new("mmdebstrap").arg("--version").output();
    assert!(
        mmdebstrap.is_ok_and(|o| o.status.success()),
        "mmdebstrap is not installed, and this test builds the image's runtime root \
         filesystem with it: install it with `make test-packages` (apt-get install mmdebstrap)"
    );
    assert!(
        stdout(Command::new("id").arg("-u")).trim() == "0",
        "building the runtime root filesystem and running chroot need root"
    );
    mirror_reachable();
    fs::create_dir_all(&cache).unwrap();
    let _ = fs::remove_file(&stamp);
    let building = cache.join("building");
    let _ = fs::remove_dir_all(&building);
    let out = Command::new("mmdebstrap")
        .args(["--variant=minbase", "--quiet"])
        .arg(format!("--include={}", runtime_packages().join(",")))
        .arg(SUITE)
        .arg(&building)
        .arg(MIRROR)
        .output()
        .expect("mmdebstrap runs");
    if !out.status.success() {
        let _ = fs::remove_dir_all(&building);
        panic!(
            "mmdebstrap could not build the runtime root filesystem from {MIRROR}; \
             if the Debian mirror is not reachable from this machine, this test cannot \
             check the image and fails rather than skip ({})\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&building, &dir).unwrap();
    fs::write(&stamp, list).unwrap();
    dir
}

/// A copy of the server repository inside `rootfs`, removed when dropped.
struct Inside(PathBuf);

impl Drop for Inside {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn check_runs_in_the_runtime_stages_root_filesystem() {
    let rootfs = runtime_rootfs();
    // The binary and its links, as the Dockerfile's last instructions make
    // them.
    let bin = rootfs.join("usr/local/bin/sigtag");
    fs::create_dir_all(bin.parent().unwrap()).unwrap();
    fs::copy(release_binary(), &bin).unwrap();
    run(Command::new("strip").arg(&bin));
    let _ = fs::remove_dir_all(rootfs.join("opt/resource"));
    let last = runtime_stage().last().cloned().expect("a last instruction");
    let script = last
        .strip_prefix("RUN ")
        .unwrap_or_else(|| panic!("the runtime stage ends with a RUN: {last}"));
    run(Command::new("chroot")
        .arg(&rootfs)
        .args(["/usr/bin/env", "-i"])
        .arg("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .args(["/bin/sh", "-ec", script]));
    // Nothing from an earlier run in the container's /tmp.
    let tmp = rootfs.join("tmp");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).unwrap();
    run(Command::new("chmod").arg("1777").arg(&tmp));

    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 200);
    let c2 = w.release("v2", "app.txt", "two\n", "two", &[&a, &b], now() - 100);
    let name = format!("srv-{}", std::process::id());
    let inside = Inside(rootfs.join(&name));
    fs::create_dir(&inside.0).unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(&w.remote)
        .arg(inside.0.join("app.git")));
    let source = w.standard_source(&format!("file:///{name}/app.git"), "2 of humans");
    let request = json!({"source": source}).to_string();

    let mut cmd = Command::new("chroot");
    cmd.arg(&rootfs)
        .args(["/usr/bin/env", "-i", "/opt/resource/check"]);
    let out = resource_support::run_with_input(cmd, Some(request.as_bytes()));
    let check = Run::from_output(out);
    assert_eq!(
        check.versions(),
        vec![("v2".to_string(), c2.clone())],
        "a first check answers the newest version: {}",
        check.stderr
    );
    let request = json!({"source": source, "version": {"tag": "v1", "commit": c1}}).to_string();
    let mut cmd = Command::new("chroot");
    cmd.arg(&rootfs)
        .args(["/usr/bin/env", "-i", "/opt/resource/check"]);
    let check = Run::from_output(resource_support::run_with_input(
        cmd,
        Some(request.as_bytes()),
    ));
    assert_eq!(
        check.versions(),
        vec![("v1".to_string(), c1), ("v2".to_string(), c2)],
        "{}",
        check.stderr
    );
}
