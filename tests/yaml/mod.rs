//! YAML for the tests, read by a real YAML parser: python3's PyYAML
//! (Debian's python3-yaml), which reads YAML 1.1 as Concourse's parser
//! does (`on`, `yes` and `no` are booleans there).
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write as _;
use std::process::{Command, Stdio};

/// `text` parsed as one YAML document, as JSON.
pub fn parse(text: &str) -> Value {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed: apt-get install python3 python3-yaml");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'yaml'"),
        "python3's yaml module is needed: apt-get install python3-yaml"
    );
    assert!(
        out.status.success(),
        "not valid YAML: {stderr}\n--- the text:\n{text}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
