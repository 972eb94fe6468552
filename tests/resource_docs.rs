//! The resource's README and example pipelines name exactly the fields the
//! resource accepts.

use sigtag::resource::{PUT_PARAMS, SOURCE_FIELDS};
use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fields a README section documents: its `* \`name\`` bullets (a
/// bullet may name two, as in "`username`, `password`").
fn documented(readme: &str, from: &str, to: &str) -> BTreeSet<String> {
    let start = readme.find(from).unwrap_or_else(|| panic!("no {from:?}"));
    let end = start + readme[start..].find(to).unwrap_or(readme.len() - start);
    readme[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("* `"))
        .flat_map(|l| {
            let names = l.split(':').next().unwrap_or("");
            names
                .split(", ")
                .map(|n| n.trim_matches('`').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_readme_documents_every_field() {
    let readme = read("resource/README.md");
    let source = documented(&readme, "## Source Configuration", "### Example");
    let want: BTreeSet<String> = SOURCE_FIELDS.iter().map(|s| s.to_string()).collect();
    assert_eq!(source, want, "source fields in resource/README.md");
    let out = documented(&readme, "### `out`", "## Secrets");
    let want: BTreeSet<String> = PUT_PARAMS.iter().map(|s| s.to_string()).collect();
    assert_eq!(out, want, "out params in resource/README.md");
    for file in [
        ".git/sigtag/report.json",
        ".git/sigtag/tag",
        ".git/sigtag/commit",
    ] {
        assert!(readme.contains(file), "the README names {file}");
    }
}

/// The keys of the `source:` and `params:` blocks of a pipeline that belong
/// to the signed-tag resource (indentation-based; the examples are plain).
fn keys_under(yaml: &str, block: &str, indent: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in yaml.lines() {
        let depth = line.len() - line.trim_start().len();
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.trim() == block && depth == indent - 2 {
            inside = true;
            continue;
        }
        if inside {
            if depth < indent {
                inside = false;
            } else if depth == indent {
                if let Some((key, _)) = line.trim().split_once(':') {
                    out.insert(key.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn the_example_pipelines_use_only_known_fields() {
    for file in ["resource/staging.yml", "resource/prod.yml"] {
        let yaml = read(file);
        assert!(yaml.contains("type: signed-tag"), "{file}");
        let source = keys_under(&yaml, "source:", 4);
        assert!(
            source.contains("uri") && source.contains("require"),
            "{file}: {source:?}"
        );
        for key in &source {
            assert!(
                SOURCE_FIELDS.contains(&key.as_str()),
                "{file}: unknown source field {key}"
            );
        }
        for key in keys_under(&yaml, "params:", 6) {
            assert!(
                PUT_PARAMS.contains(&key.as_str()),
                "{file}: unknown put param {key}"
            );
        }
    }
    assert!(read("resource/staging.yml").contains("put: release"));
    assert!(read("resource/prod.yml").contains("2 of humans and 1 of pipelines"));
}
