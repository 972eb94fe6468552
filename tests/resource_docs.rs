//! The resource's README and example pipelines name exactly the fields the
//! resource accepts (the pipelines read by a real YAML parser).

mod yaml;

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
        ".git/sigtag/vsa.json",
    ] {
        assert!(readme.contains(file), "the README names {file}");
    }
}

#[test]
fn the_example_pipelines_use_only_known_fields() {
    for file in ["resource/staging.yml", "resource/prod.yml"] {
        let pipeline = yaml::parse(&read(file));
        let resources = pipeline["resources"].as_array().expect("resources");
        let release = resources
            .iter()
            .find(|r| r["type"] == "signed-tag")
            .unwrap_or_else(|| panic!("{file}: no signed-tag resource"));
        let source = release["source"].as_object().expect("source");
        assert!(
            source.contains_key("uri") && source.contains_key("require"),
            "{file}: {source:?}"
        );
        for key in source.keys() {
            assert!(
                SOURCE_FIELDS.contains(&key.as_str()),
                "{file}: unknown source field {key}"
            );
        }
        for job in pipeline["jobs"].as_array().expect("jobs") {
            for step in job["plan"].as_array().expect("plan") {
                if step["put"] == release["name"] {
                    for key in step["params"].as_object().expect("put params").keys() {
                        assert!(
                            PUT_PARAMS.contains(&key.as_str()),
                            "{file}: unknown put param {key}"
                        );
                    }
                }
                if step["get"] == release["name"] {
                    assert!(step.get("params").is_none(), "{file}: get takes no params");
                }
            }
        }
    }
    assert!(read("resource/staging.yml").contains("put: release"));
    assert!(read("resource/prod.yml").contains("2 of humans and 1 of pipelines"));
}
