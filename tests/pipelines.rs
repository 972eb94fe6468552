//! The example pipelines, resource/staging.yml and resource/prod.yml, read
//! by a real YAML parser and run: their trust root is what `sigtag keys
//! source --vars` prints for the example keys directory, their resource
//! type is the image the Dockerfile builds, and with their variables set to
//! a real keys directory and a real ssh server, the real `check`, `in` and
//! `out` give the versions, files and metadata the pipelines rely on, and
//! their shell tasks print what they should.

mod resource_support;
mod yaml;

use resource_support::servers::SshServer;
use resource_support::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_file(path: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A pipeline, parsed, and its text.
fn pipeline(file: &str) -> (Value, String) {
    let text = repo_file(file);
    (yaml::parse(&text), text)
}

/// The one resource of type signed-tag.
fn release(p: &Value) -> &Value {
    let found: Vec<&Value> = p["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "signed-tag")
        .collect();
    assert_eq!(found.len(), 1, "one signed-tag resource");
    found[0]
}

/// The steps of the pipeline's one job.
fn steps(p: &Value) -> Vec<Value> {
    let jobs = p["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "one job");
    jobs[0]["plan"].as_array().unwrap().clone()
}

/// Every `((name))` in a string.
fn var_names(text: &str) -> Vec<String> {
    text.split("((")
        .skip(1)
        .filter_map(|rest| rest.split_once("))").map(|(name, _)| name.to_string()))
        .collect()
}

/// Every variable a parsed document uses (comments are not in it).
fn vars_in(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => out.extend(var_names(s)),
        Value::Array(a) => a.iter().for_each(|x| vars_in(x, out)),
        Value::Object(o) => o.values().for_each(|x| vars_in(x, out)),
        _ => {}
    }
}

/// `v` with every `((name))` replaced by its value, as fly and the
/// credential manager would; an unknown variable fails the test.
fn substitute(v: &Value, vars: &BTreeMap<&str, String>) -> Value {
    match v {
        Value::String(s) => {
            let mut out = s.clone();
            for name in var_names(s) {
                let value = vars
                    .get(name.as_str())
                    .unwrap_or_else(|| panic!("no value for (({name}))"));
                out = out.replace(&format!("(({name}))"), value);
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, vars)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, vars)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// `sigtag ARGS`, with nothing from the environment but HOME.
fn sigtag(home: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtag"));
    cmd.env_clear()
        .env("HOME", home)
        .env("GNUPGHOME", home.join("no-gnupg-home"))
        .env("LC_ALL", "C")
        .current_dir(home)
        .args(args);
    let run = Run::from_output(run_with_input(cmd, None));
    assert_eq!(
        run.code, 0,
        "sigtag {args:?}: {}\n{}",
        run.stdout, run.stderr
    );
    run
}

const PIPELINES: [(&str, &str); 2] = [
    ("resource/staging.yml", "staging"),
    ("resource/prod.yml", "prod"),
];

#[test]
fn the_trust_root_is_what_keys_source_prints_and_the_image_is_the_dockerfiles() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let version = env!("CARGO_PKG_VERSION");
    let image = format!("$REGISTRY/sigtag:{version}");
    for (file, env) in PIPELINES {
        let (p, text) = pipeline(file);
        let printed = sigtag(
            &std::env::temp_dir(),
            &[
                "keys",
                "source",
                "--env",
                env,
                "--vars",
                "--format",
                "json",
                "--keys",
                root.join("keys").to_str().unwrap(),
            ],
        );
        let fragment: Value = serde_json::from_str(&printed.stdout).unwrap();
        let source = &release(&p)["source"];
        for field in ["environment", "signers", "groups", "require"] {
            assert_eq!(source[field], fragment[field], "{file}: source.{field}");
        }
        assert!(
            text.contains(&format!(
                "sigtag keys source --env {env} --vars --keys keys"
            )),
            "{file} names the command its trust root comes from"
        );

        // The image this repository's Dockerfile builds, at this version.
        let types = p["resource_types"].as_array().unwrap();
        assert_eq!(types.len(), 1);
        assert_eq!(types[0]["name"], "signed-tag");
        assert_eq!(types[0]["type"], "registry-image");
        assert_eq!(
            types[0]["source"],
            json!({"repository": "((registry))/sigtag", "tag": version})
        );
        assert!(
            text.contains(&format!(
                "docker build -t \"{image}\" . && docker push \"{image}\""
            )),
            "{file} says how to build and push {image}"
        );

        // Every variable it uses is documented in its header.
        let mut used = BTreeSet::new();
        vars_in(&p, &mut used);
        let header: String = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        for var in &used {
            assert!(
                header.contains(var.as_str()),
                "{file}: (({var})) is not explained"
            );
        }
        // Its fly command sets every ((NAME_pub)) from the keys directory.
        for name in fragment["signers"].as_object().unwrap().keys() {
            assert!(
                header.contains(&format!("-v {name}_pub=\"$(cat keys/{name}.asc)\"")),
                "{file}: no -v {name}_pub"
            );
        }
    }
    assert!(repo_file("Dockerfile").contains("/opt/resource/check"));
    // Staging deploys every tag; production the newest.
    let get = |file: &str| {
        let (p, _) = pipeline(file);
        steps(&p)
            .into_iter()
            .find(|s| s["get"] == "release")
            .unwrap()
    };
    assert_eq!(get("resource/staging.yml")["version"], "every");
    assert_eq!(get("resource/prod.yml")["version"], Value::Null);
}

/// One build of a pipeline's job for `version`: every step in order, as
/// Concourse runs it, in a fresh build directory. Returns what each step
/// printed: the outputs of `in` and `out`, and the stdout of each task.
fn run_build(
    w: &World,
    p: &Value,
    vars: &BTreeMap<&str, String>,
    version: &(String, String),
) -> Vec<Value> {
    let source = substitute(&release(p)["source"], vars);
    let build = w.fresh_dir("build");
    let mut printed = Vec::new();
    for step in steps(p) {
        let step = substitute(&step, vars);
        if step["get"] == "release" {
            let dest = build.join("release");
            fs::create_dir(&dest).unwrap();
            let params = step.get("params").cloned().unwrap_or(json!({}));
            let req = json!({"source": source, "version": {"tag": version.0, "commit": version.1}, "params": params});
            let run = w.run(Bin::In, Some(&dest), req.to_string().as_bytes());
            printed.push(run.ok());
        } else if step["put"] == "release" {
            let run = w.put(&source, step["params"].clone(), &build);
            printed.push(run.ok());
        } else if let Some(task) = step.get("task") {
            let run_cfg = &step["config"]["run"];
            assert_eq!(run_cfg["path"], "sh", "task {task}");
            let args: Vec<String> = run_cfg["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            let mut cmd = Command::new("sh");
            cmd.args(&args).current_dir(&build);
            let run = Run::from_output(run_with_input(cmd, None));
            assert_eq!(run.code, 0, "task {task}: {}", run.stderr);
            printed.push(Value::String(run.stdout));
        } else {
            panic!("a step the test does not know: {step}");
        }
    }
    printed
}

fn metadata(output: &Value) -> Vec<(String, String)> {
    output_parts(output).1
}

#[test]
fn the_pipelines_run_with_real_keys_and_a_real_server() {
    let w = World::new();
    let (a, b, c, s) = (
        w.key("alice"),
        w.key("bob"),
        w.key("carol"),
        w.key("staging"),
    );
    let sshd = SshServer::start(&w.root.join("sshd"));
    let vars: BTreeMap<&str, String> = BTreeMap::from([
        ("registry", "registry.invalid/example".to_string()),
        ("app_uri", sshd.url(&w.remote)),
        ("deploy_key", sshd.client_key.clone()),
        ("known_hosts", sshd.known_hosts.clone()),
        ("alice_pub", w.cert(&a)),
        ("bob_pub", w.cert(&b)),
        ("carol_pub", w.cert(&c)),
        ("staging_pub", w.cert(&s)),
        ("staging_signing_key", w.secret(&s)),
    ]);
    let t = now();
    let c1 = w.release("v1.0.0", "app.txt", "1\n", "one", &[&a, &b], t - 300);
    w.release("v1.1.0", "app.txt", "2\n", "two", &[&a], t - 200);
    let c3 = w.release("v1.2.0", "app.txt", "3\n", "three", &[&b, &c], t - 100);
    let v1 = ("v1.0.0".to_string(), c1.clone());
    let v3 = ("v1.2.0".to_string(), c3.clone());

    let (staging, _) = pipeline("resource/staging.yml");
    let (prod, _) = pipeline("resource/prod.yml");
    let staging_source = substitute(&release(&staging)["source"], &vars);
    let prod_source = substitute(&release(&prod)["source"], &vars);

    // Staging sees the two tags two people signed, never v1.1.0.
    assert_eq!(
        w.check(&staging_source, None).versions(),
        std::slice::from_ref(&v3)
    );
    let run = w.check(&staging_source, Some((&v1.0, &v1.1)));
    assert_eq!(run.versions(), [v1.clone(), v3.clone()], "{}", run.stderr);
    // Production sees nothing before staging signed.
    assert_eq!(w.check(&prod_source, None).versions(), []);

    // version: every: one build per version, in order.
    for (version, layers) in [(&v1, 3), (&v3, 3)] {
        let printed = run_build(&w, &staging, &vars, version);
        assert_eq!(printed.len(), 4, "get, deploy, smoke-test, put");
        let get = metadata(&printed[0]);
        assert_eq!(output_parts(&printed[0]).0, *version);
        assert_eq!(get[0], ("tag".into(), version.0.clone()));
        assert_eq!(get[2], ("rule".into(), "2 of humans".into()));
        assert_eq!(
            printed[1],
            json!(format!(
                "deploying {} ({}) to staging\n",
                version.0, version.1
            ))
        );
        assert_eq!(printed[2], json!("testing staging\n"));
        let put = metadata(&printed[3]);
        assert_eq!(output_parts(&printed[3]).0, *version, "same version");
        assert!(
            put.contains(&("added layer".into(), layers.to_string())),
            "{put:?}"
        );
        assert!(
            put.contains(&("required before signing".into(), "2 of humans".into())),
            "{put:?}"
        );
        assert_eq!(w.layers(&version.0), layers);
        assert!(
            w.outer_layer(&version.0)
                .contains("deployed to staging and passed the smoke tests"),
            "{}",
            w.outer_layer(&version.0)
        );
    }
    // A co-signature makes no new version: staging does not trigger itself.
    let run = w.check(&staging_source, Some((&v3.0, &v3.1)));
    assert_eq!(run.versions(), std::slice::from_ref(&v3));

    // Production now sees both, and deploys the newest.
    let run = w.check(&prod_source, Some((&v1.0, &v1.1)));
    assert_eq!(run.versions(), [v1.clone(), v3.clone()], "{}", run.stderr);
    assert_eq!(
        w.check(&prod_source, None).versions(),
        std::slice::from_ref(&v3)
    );
    let printed = run_build(&w, &prod, &vars, &v3);
    assert_eq!(printed.len(), 2, "get, deploy");
    let get = metadata(&printed[0]);
    assert_eq!(
        get[2],
        ("rule".into(), "2 of humans and 1 of pipelines".into())
    );
    let signers: Vec<&str> = get
        .iter()
        .filter(|(n, _)| n == "signer")
        .map(|(_, v)| v.split(' ').next().unwrap())
        .collect();
    assert_eq!(signers, ["bob", "carol", "staging"], "{get:?}");
    assert_eq!(
        printed[1],
        json!(format!("deploying v1.2.0 ({c3}) to production\n"))
    );
}
