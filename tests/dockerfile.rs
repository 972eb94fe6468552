//! No Docker engine runs where these tests run, so this checks what can be
//! checked without one: the image is built with the command the project
//! builds with, from files the build context holds, with the packages the
//! build needs, and it installs the entry points Concourse calls.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
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

#[test]
fn the_image_builds_with_the_projects_build_command() {
    let build = instructions()
        .into_iter()
        .find(|l| l.starts_with("RUN cargo build"))
        .expect("the Dockerfile runs cargo build");
    let docker_cmd = words_after(&build, "RUN ").join(" ");
    let makefile = read("Makefile");
    let make_build = makefile
        .lines()
        .skip_while(|l| !l.starts_with("build:"))
        .nth(1)
        .expect("the Makefile has a build target")
        .trim()
        .replace("$(CARGO)", "cargo");
    assert_eq!(docker_cmd, make_build, "Dockerfile and `make build` differ");
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
    let apt = instructions()
        .into_iter()
        .find(|l| l.contains("apt-get install") && l.contains("libclang-dev"))
        .expect("the builder stage installs the build packages");
    for p in wanted {
        assert!(
            apt.split_whitespace().any(|w| w == p),
            "the builder lacks {p}"
        );
    }
}

#[test]
fn the_build_context_holds_what_the_build_needs() {
    let ignored: Vec<String> = read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    for needed in ["Cargo.toml", "Cargo.lock", "src", "examples"] {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(needed).exists(),
            "{needed} is missing"
        );
        assert!(
            !ignored.iter().any(|i| i == needed),
            "{needed} is excluded from the build context"
        );
    }
    // Cargo.toml must not point at anything the context leaves out.
    let manifest = read("Cargo.toml");
    for i in &ignored {
        assert!(
            !manifest.contains(&format!("\"{i}/")),
            "Cargo.toml refers to {i}/, which .dockerignore excludes"
        );
    }
}

#[test]
fn the_image_installs_the_entry_points_concourse_calls() {
    let all = instructions().join("\n");
    assert!(
        all.contains("COPY --from=builder /src/target/release/sigtag /usr/local/bin/sigtag"),
        "the image must ship the sigtag binary"
    );
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/main.rs")
        .exists());
    for role in ["check", "in", "out"] {
        assert!(
            all.contains(&format!("ln -s /usr/local/bin/sigtag /opt/resource/{role}")),
            "/opt/resource/{role} is not installed"
        );
    }
    assert!(
        all.contains("ca-certificates"),
        "the image needs CA certificates for https"
    );
}
