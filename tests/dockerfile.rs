//! No Docker engine runs where these tests run, so this checks what the
//! image needs without one: the image is built with the command the project
//! builds with, from files the build context holds, with the packages the
//! build needs; its runtime stage installs every shared library the release
//! binary links against, and it installs the entry points Concourse calls.
//!
//! The last test builds the runtime stage's root filesystem with
//! mmdebstrap (cached under target/test-rootfs, rebuilt when the
//! Dockerfile's package list changes), checks that it holds exactly the
//! packages the stage asks for (and what they and the base image bring),
//! installs the release binary where the Dockerfile puts it and runs the
//! stage's other instructions in a chroot, and runs `/opt/resource/check`,
//! `in` and `out` there with no environment at all (no PATH, no HOME; `out`
//! gets the build variables Concourse gives it): against an origin inside
//! the root filesystem over file://, and over https with a CA the image's
//! trust store does not hold, then does.

mod resource_support;

use resource_support::servers::{HttpServer, TlsProxy};
use resource_support::{now, output_parts, run_with_input, Run, World, BUILD_ENV};
use serde_json::{json, Value};
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
    instructions_of(&read("Dockerfile"))
}

/// `text`, a Dockerfile, with line continuations joined.
fn instructions_of(text: &str) -> Vec<String> {
    text.replace("\\\n", " ")
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The instructions of the last stage (after its `FROM`).
fn runtime_stage() -> Vec<String> {
    stage_of(&instructions(), Stage::Runtime)
}

#[derive(Clone, Copy)]
enum Stage {
    Builder,
    Runtime,
}

/// The instructions of the first stage (up to the last `FROM`) or of the
/// last one (after it), its `FROM` left out.
fn stage_of(all: &[String], stage: Stage) -> Vec<String> {
    let from = all
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .expect("the Dockerfile has a FROM");
    match stage {
        Stage::Builder => all[..from]
            .iter()
            .filter(|l| !l.starts_with("FROM "))
            .cloned()
            .collect(),
        Stage::Runtime => all[from + 1..].to_vec(),
    }
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
    runtime_packages_of(&read("Dockerfile"))
}

/// The packages the runtime stage of `dockerfile` (its text) installs.
fn runtime_packages_of(dockerfile: &str) -> Vec<String> {
    let stage = stage_of(&instructions_of(dockerfile), Stage::Runtime);
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
    let builder: Vec<String> = stage_of(&instructions(), Stage::Builder)
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

/// What a cached root filesystem was built from: the suite, the mirror,
/// the variant and the runtime stage's packages.
fn rootfs_stamp(packages: &[String]) -> String {
    format!("{SUITE} {MIRROR} minbase {}\n", packages.join(","))
}

/// The root filesystem cached in `cache`, if it was built from exactly
/// `packages`.
fn cached_rootfs(cache: &Path, packages: &[String]) -> Option<PathBuf> {
    let dir = cache.join("root");
    let built = fs::read_to_string(cache.join("packages")).ok()?;
    (built == rootfs_stamp(packages) && dir.is_dir()).then_some(dir)
}

/// The runtime stage's root filesystem, built with mmdebstrap from the
/// Dockerfile's package list under target/test-rootfs and kept there until
/// that list changes.
fn runtime_rootfs() -> PathBuf {
    let cache = root().join("target").join("test-rootfs");
    let packages = runtime_packages();
    if let Some(dir) = cached_rootfs(&cache, &packages) {
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
    let dir = cache.join("root");
    let stamp = cache.join("packages");
    fs::create_dir_all(&cache).unwrap();
    let _ = fs::remove_file(&stamp);
    let building = cache.join("building");
    let _ = fs::remove_dir_all(&building);
    let out = Command::new("mmdebstrap")
        .args(["--variant=minbase", "--quiet"])
        .arg(format!("--include={}", packages.join(",")))
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
    fs::write(&stamp, rootfs_stamp(&packages)).unwrap();
    dir
}

#[test]
fn a_changed_package_list_rebuilds_the_root_filesystem() {
    let dockerfile = read("Dockerfile");
    let packages = runtime_packages_of(&dockerfile);
    let install = "apt-get install -y --no-install-recommends";
    let at = dockerfile
        .rfind(install)
        .expect("the runtime stage's apt-get install")
        + install.len();
    let more = format!("{} git{}", &dockerfile[..at], &dockerfile[at..]);
    let mut with_git = packages.clone();
    with_git.insert(0, "git".to_string());
    assert_eq!(runtime_packages_of(&more), with_git);
    let fewer = dockerfile.replacen(" libpcsclite1", "", 1);
    let without: Vec<String> = packages
        .iter()
        .filter(|p| *p != "libpcsclite1")
        .cloned()
        .collect();
    assert_eq!(runtime_packages_of(&fewer), without);

    // A cache built from the Dockerfile's list serves that list only.
    let cache = tempfile::tempdir().unwrap();
    fs::create_dir(cache.path().join("root")).unwrap();
    fs::write(cache.path().join("packages"), rootfs_stamp(&packages)).unwrap();
    assert_eq!(
        cached_rootfs(cache.path(), &packages),
        Some(cache.path().join("root"))
    );
    for changed in [&with_git, &without] {
        assert_eq!(
            cached_rootfs(cache.path(), changed),
            None,
            "a cache built from {packages:?} must not serve {changed:?}"
        );
    }
    let mut reordered = packages.clone();
    reordered.reverse();
    assert_eq!(cached_rootfs(cache.path(), &reordered), None);
}

/// Docker's PATH for RUN.
const RUN_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `chroot ROOTFS /usr/bin/env -i`: whatever is added runs inside with no
/// environment at all, unless given as `NAME=value` first.
fn chroot(rootfs: &Path) -> Command {
    let mut cmd = Command::new("chroot");
    cmd.arg(rootfs).args(["/usr/bin/env", "-i"]);
    cmd
}

/// The packages installed in a root filesystem, by its own dpkg database.
struct Installed {
    /// Each package with its dependencies (Pre-Depends and Depends, every
    /// alternative); a virtual package depends on each package that
    /// provides it.
    graph: Vec<(String, Vec<String>)>,
    names: BTreeSet<String>,
    /// What mmdebstrap's minbase variant starts from: the Essential
    /// packages, the Priority required ones, and apt.
    minbase: Vec<String>,
}

fn installed_in(rootfs: &Path) -> Installed {
    let admindir = rootfs.join("var/lib/dpkg");
    let text = stdout(
        Command::new("dpkg-query")
            .arg(format!("--admindir={}", admindir.display()))
            .args([
                "-W",
                "-f=${Package}\t${Essential}\t${Priority}\t${Provides}\t${Pre-Depends}, ${Depends}\n",
            ]),
    );
    let names = |list: &str| -> Vec<String> {
        list.split([',', '|'])
            .filter_map(|d| d.split_whitespace().next())
            .map(|d| d.split(':').next().unwrap_or(d).to_string())
            .collect()
    };
    let mut installed = Installed {
        graph: Vec::new(),
        names: BTreeSet::new(),
        minbase: vec!["apt".to_string()],
    };
    for line in text.lines() {
        let cols: Vec<&str> = line.splitn(5, '\t').collect();
        let [name, essential, priority, provides, deps] = cols[..] else {
            panic!("dpkg-query printed {line:?}");
        };
        if essential == "yes" || priority == "required" {
            installed.minbase.push(name.to_string());
        }
        installed.names.insert(name.to_string());
        installed.graph.push((name.to_string(), names(deps)));
        for virtual_name in names(provides) {
            installed.graph.push((virtual_name, vec![name.to_string()]));
        }
    }
    installed
}

impl Installed {
    /// The installed packages that neither minbase nor `asked` (with
    /// everything they depend on) bring in.
    fn beyond(&self, asked: &[String]) -> Vec<String> {
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = self.minbase.iter().chain(asked).cloned().collect();
        while let Some(p) = todo.pop() {
            if !wanted.insert(p.clone()) {
                continue;
            }
            // A name may have several entries: a package and the
            // providers of a virtual package of that name.
            for (_, deps) in self.graph.iter().filter(|(n, _)| *n == p) {
                todo.extend(deps.iter().cloned());
            }
        }
        self.names
            .iter()
            .filter(|p| !wanted.contains(*p))
            .cloned()
            .collect()
    }
}

/// The root filesystem holds the runtime stage's packages, what the base
/// image holds, what they depend on, and nothing else: no package the
/// Dockerfile does not name can make the resource work here.
fn assert_installs_exactly_the_runtime_packages(rootfs: &Path) {
    let packages = runtime_packages();
    let installed = installed_in(rootfs);
    for p in &packages {
        assert!(
            installed.names.contains(p),
            "the runtime stage installs {p}, which the root filesystem lacks"
        );
    }
    let extra = installed.beyond(&packages);
    assert!(
        extra.is_empty(),
        "the root filesystem holds {extra:?}, which neither the base image nor the runtime \
         stage's packages {packages:?} bring in; remove target/test-rootfs to rebuild it"
    );
    // The check can fail: without the stage's packages, what they
    // brought would be packages too many.
    assert!(
        !installed.beyond(&[]).is_empty(),
        "the runtime stage's packages {packages:?} bring nothing the base image lacks"
    );
}

/// Does in `rootfs` what the runtime stage does once its packages are
/// installed (mmdebstrap installed them): each `COPY --from=builder` with
/// the file the builder makes (the release binary, stripped when the
/// builder strips it) to where it puts it, and each other `RUN`, in order,
/// in a chroot, as Docker runs it.
fn install_as_the_runtime_stage_does(rootfs: &Path) {
    let all = instructions();
    let builder = stage_of(&all, Stage::Builder);
    let workdir = builder
        .iter()
        .find_map(|l| l.strip_prefix("WORKDIR "))
        .expect("the builder stage sets a WORKDIR")
        .to_string();
    assert!(
        builder.iter().any(|l| l == "COPY . ."),
        "the builder copies the build context into its WORKDIR: {builder:?}"
    );
    let stripped: Vec<String> = builder
        .iter()
        .filter_map(|l| l.strip_prefix("RUN "))
        .flat_map(|script| script.split("&&").map(str::trim))
        .filter_map(|c| c.strip_prefix("strip "))
        .map(|path| format!("{workdir}/{}", path.trim()))
        .collect();
    // The links of an earlier run would make `ln -s` fail.
    let _ = fs::remove_dir_all(rootfs.join("opt/resource"));
    for line in stage_of(&all, Stage::Runtime) {
        if let Some(script) = line.strip_prefix("RUN ") {
            if script.contains("apt-get install") {
                for part in script.split("&&").map(str::trim) {
                    assert!(
                        part == "apt-get update"
                            || part.starts_with("apt-get install ")
                            || part == "rm -rf /var/lib/apt/lists/*",
                        "the runtime stage's package RUN also runs {part:?}, which this test \
                         does not do in the root filesystem yet"
                    );
                }
                continue;
            }
            run(chroot(rootfs)
                .arg(RUN_PATH)
                .args(["/bin/sh", "-ec", script]));
        } else if let Some(args) = line.strip_prefix("COPY ") {
            let words: Vec<&str> = args.split_whitespace().collect();
            let [from, source, dest] = words[..] else {
                panic!("the runtime stage's {line:?} is not COPY --from=builder SOURCE DEST");
            };
            assert_eq!(from, "--from=builder", "{line}");
            let built = source
                .strip_prefix(&format!("{workdir}/"))
                .unwrap_or_else(|| panic!("{line}: the builder makes its files in {workdir}"));
            assert_eq!(
                built, "target/release/sigtag",
                "{line}: this test builds the release binary only"
            );
            let to = rootfs.join(dest.trim_start_matches('/'));
            fs::create_dir_all(to.parent().expect("a directory")).unwrap();
            fs::copy(release_binary(), &to).unwrap();
            if stripped.iter().any(|s| s == source) {
                run(Command::new("strip").arg(&to));
            }
        } else {
            panic!(
                "the runtime stage's {line:?} is not something this test does in the root \
                 filesystem yet (it knows RUN and COPY --from=builder)"
            );
        }
    }
}

/// Paths inside the root filesystem that one run made, removed when
/// dropped.
struct Inside(Vec<PathBuf>);

impl Drop for Inside {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// Where this test puts its CA certificate: the directory
/// update-ca-certificates reads local certificates from.
fn local_ca_dir(rootfs: &Path) -> PathBuf {
    rootfs.join("usr/local/share/ca-certificates")
}

/// update-ca-certificates in `rootfs`; `fresh` also drops the links of
/// certificates taken out.
fn update_ca_certificates(rootfs: &Path, fresh: bool) {
    let mut cmd = chroot(rootfs);
    cmd.arg(RUN_PATH).arg("update-ca-certificates");
    if fresh {
        cmd.arg("--fresh");
    }
    run(&mut cmd);
}

/// A CA certificate in the root filesystem's trust store, added as an
/// image built on this one adds its own (ca-certificates'
/// update-ca-certificates), and taken out again when dropped.
struct TrustedCa {
    rootfs: PathBuf,
    file: PathBuf,
}

impl TrustedCa {
    fn add(rootfs: &Path, cert: &Path) -> TrustedCa {
        assert!(
            rootfs.join("usr/sbin/update-ca-certificates").is_file(),
            "the image has no update-ca-certificates: its runtime stage does not install \
             ca-certificates"
        );
        let file = local_ca_dir(rootfs).join(format!("sigtag-test-{}.crt", std::process::id()));
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::copy(cert, &file).unwrap();
        update_ca_certificates(rootfs, false);
        TrustedCa {
            rootfs: rootfs.to_path_buf(),
            file,
        }
    }
}

impl Drop for TrustedCa {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
        update_ca_certificates(&self.rootfs, true);
    }
}

/// `/opt/resource/ROLE ARGS...` in a chroot into `rootfs`, with `request`
/// on stdin and no environment but `env`: no PATH, no HOME, no TMPDIR.
fn resource(
    rootfs: &Path,
    role: &str,
    args: &[&str],
    env: &[(&str, &str)],
    request: &Value,
) -> Run {
    let mut cmd = chroot(rootfs);
    for (name, value) in env {
        cmd.arg(format!("{name}={value}"));
    }
    cmd.arg(format!("/opt/resource/{role}")).args(args);
    Run::from_output(run_with_input(cmd, Some(request.to_string().as_bytes())))
}

#[test]
fn check_in_and_out_run_in_the_runtime_stages_root_filesystem() {
    let rootfs = runtime_rootfs();
    assert_installs_exactly_the_runtime_packages(&rootfs);
    install_as_the_runtime_stage_does(&rootfs);
    // Nothing from an earlier run in the container's /tmp, or in its
    // trust store.
    let tmp = rootfs.join("tmp");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp).unwrap();
    run(Command::new("chmod").arg("1777").arg(&tmp));
    let leftovers: Vec<PathBuf> = fs::read_dir(local_ca_dir(&rootfs))
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/sigtag-test-"))
        .collect();
    if !leftovers.is_empty() {
        for p in &leftovers {
            fs::remove_file(p).unwrap();
        }
        update_ca_certificates(&rootfs, true);
    }

    let w = World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 200);
    let c2 = w.release("v2", "app.txt", "two\n", "two", &[&a, &b], now() - 100);
    let name = format!("origin-{}.git", std::process::id());
    let origin = rootfs.join("srv").join(&name);
    let build = rootfs.join("tmp/build");
    let _inside = Inside(vec![origin.clone(), build.clone()]);
    run(Command::new("cp").arg("-a").arg(&w.remote).arg(&origin));
    let uri = format!("file:///srv/{name}");
    let staging = w.standard_source(&uri, "2 of humans");
    let prod = w.standard_source(&uri, "2 of humans and 1 of pipelines");

    // check: the newest version, then every version from one on.
    let check = resource(&rootfs, "check", &[], &[], &json!({"source": staging}));
    assert_eq!(
        check.versions(),
        vec![("v2".to_string(), c2.clone())],
        "a first check answers the newest version: {}",
        check.stderr
    );
    let from_v1 = json!({"source": staging, "version": {"tag": "v1", "commit": c1}});
    let check = resource(&rootfs, "check", &[], &[], &from_v1);
    assert_eq!(
        check.versions(),
        vec![("v1".to_string(), c1), ("v2".to_string(), c2.clone())],
        "{}",
        check.stderr
    );
    let check = resource(&rootfs, "check", &[], &[], &json!({"source": prod}));
    assert_eq!(
        check.versions(),
        vec![],
        "not for prod yet: {}",
        check.stderr
    );

    // in: the tree at the version's commit, the tag, and the report.
    fs::create_dir_all(build.join("release")).unwrap();
    let request = json!({"source": staging, "version": {"tag": "v2", "commit": c2}, "params": {}});
    let get = resource(&rootfs, "in", &["/tmp/build/release"], &[], &request);
    let (version, metadata) = output_parts(&get.ok());
    assert_eq!(version, ("v2".to_string(), c2.clone()));
    let meta = |name: &str| -> Vec<String> {
        metadata
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(meta("tag"), vec!["v2"]);
    assert_eq!(meta("commit"), vec![c2.clone()]);
    assert_eq!(meta("rule"), vec!["2 of humans"]);
    assert_eq!(meta("layers"), vec!["2"]);
    let signers = meta("signer");
    assert_eq!(signers.len(), 2, "{signers:?}");
    assert!(
        signers[0].starts_with(&format!("alice (humans), layer 1, key {}", a.fpr)),
        "{signers:?}"
    );
    assert!(
        signers[1].starts_with(&format!("bob (humans), layer 2, key {}", b.fpr)),
        "{signers:?}"
    );
    let dest = build.join("release");
    assert_eq!(fs::read_to_string(dest.join("app.txt")).unwrap(), "two\n");
    assert_eq!(w.git_in(&dest, &["rev-parse", "HEAD"]), c2);
    assert_eq!(w.git_in(&dest, &["status", "--porcelain"]), "");
    assert_eq!(w.git_in(&dest, &["remote", "get-url", "origin"]), uri);
    let sigtag = dest.join(".git/sigtag");
    assert_eq!(fs::read_to_string(sigtag.join("tag")).unwrap(), "v2\n");
    assert_eq!(
        fs::read_to_string(sigtag.join("commit")).unwrap(),
        format!("{c2}\n")
    );
    let report: Value =
        serde_json::from_str(&fs::read_to_string(sigtag.join("report.json")).unwrap()).unwrap();
    assert_eq!(report[0]["tag"], "v2", "{report}");
    assert_eq!(report[0]["satisfied"], true, "{report}");

    // out: the pipeline's key from params counter-signs the tag the get
    // fetched, and pushes it to the origin.
    let before = w.git_in(&origin, &["rev-parse", "refs/tags/v2"]);
    let request =
        json!({"source": staging, "params": {"from": "release", "signing_key": w.secret(&s)}});
    let put = resource(&rootfs, "out", &["/tmp/build"], BUILD_ENV, &request);
    let (version, metadata) = output_parts(&put.ok());
    assert_eq!(version, ("v2".to_string(), c2.clone()));
    assert!(
        metadata.contains(&("added layer".to_string(), "3".to_string())),
        "{metadata:?}"
    );

    // From outside, with real git: the origin's tag moved to a layer on
    // top of the old one, signed by the pipeline's key.
    let after = w.git_in(&origin, &["rev-parse", "refs/tags/v2"]);
    assert_ne!(after, before, "out moved the origin's tag");
    let layer = w.git_in(&origin, &["cat-file", "tag", "refs/tags/v2"]);
    assert!(
        layer.starts_with(&format!(
            "object {before}\ntype tag\ntag v2\ntagger staging <staging@example.org> "
        )),
        "{layer}"
    );
    assert!(layer.contains("\nBUILD_NAME=42\n"), "{layer}");
    w.git_in(&origin, &["verify-tag", "v2"]);
    assert_eq!(w.git_in(&origin, &["rev-parse", "v2^{commit}"]), c2);

    // sigtag accepts it for prod now, and so does prod's check in the
    // image.
    let keys = w.root.join("keys");
    fs::create_dir(&keys).unwrap();
    for k in [&a, &b, &s] {
        fs::write(keys.join(format!("{}.asc", k.name)), w.cert(k)).unwrap();
    }
    fs::write(
        keys.join("policy.toml"),
        "[groups]\nhumans = [\"alice\", \"bob\"]\npipelines = [\"staging\"]\n\n\
         [environments.prod]\nrequire = \"2 of humans and 1 of pipelines\"\n",
    )
    .unwrap();
    let verify = Run::from_output(run_with_input(
        {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtag"));
            cmd.env_clear()
                .arg("verify")
                .arg("v2")
                .args(["--env", "prod", "--keys"])
                .arg(&keys)
                .arg("--repo")
                .arg(&origin);
            cmd
        },
        None,
    ));
    assert_eq!(
        (verify.code, verify.stdout.as_str()),
        (0, "v2: yes for prod (alice, bob, staging)\n"),
        "{}",
        verify.stderr
    );
    let check = resource(&rootfs, "check", &[], &[], &json!({"source": prod}));
    assert_eq!(
        check.versions(),
        vec![("v2".to_string(), c2.clone())],
        "{}",
        check.stderr
    );

    // https: the image's CA bundle is what makes a server trusted. Its
    // OpenSSL finds one where it looks by default...
    let bundle = rootfs.join("usr/lib/ssl/cert.pem");
    let target = fs::read_link(&bundle)
        .map(|t| rootfs.join(t.strip_prefix("/").unwrap_or(&t)))
        .unwrap_or(bundle.clone());
    let certs = fs::read_to_string(&target).unwrap_or_default();
    assert!(
        certs.matches("BEGIN CERTIFICATE").count() > 100,
        "the image's OpenSSL finds no CA bundle at /usr/lib/ssl/cert.pem ({}): the runtime \
         stage must install ca-certificates",
        target.display()
    );
    // ... which does not hold this server's CA yet ...
    let server = HttpServer::start(w.remote.parent().unwrap(), "ci", "s3cret-pass");
    let tls = TlsProxy::start(&w.root.join("tls"), server.port);
    let mut https = w.standard_source(&tls.url("app.git"), "2 of humans");
    https["username"] = json!("ci");
    https["password"] = json!("s3cret-pass");
    let refused = resource(&rootfs, "check", &[], &[], &json!({"source": https}));
    refused.assert_fails(&["cannot reach https://127.0.0.1", "CA certificates"]);
    // ... until its CA is in the image's trust store.
    let _ca = TrustedCa::add(&rootfs, &tls.cert);
    let check = resource(&rootfs, "check", &[], &[], &json!({"source": https}));
    assert_eq!(
        check.versions(),
        vec![("v2".to_string(), c2)],
        "{}",
        check.stderr
    );
}
