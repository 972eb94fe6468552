//! The Concourse resource type (DESIGN §4): `check`, `in` and `out`.
//!
//! Each entry point reads one JSON request on stdin, writes exactly one
//! JSON value on stdout, and logs on stderr. The whole request, the trust
//! root included, is validated before any network access; a mistake is one
//! sentence on stderr and a non-zero exit, with nothing on stdout.
//!
//! The binaries `check`, `in` and `out` (src/bin) call [`check_main`],
//! [`in_main`] and [`out_main`]; the `sigtag` binary does the same when it
//! is started under one of those names ([`main_by_name`]).

mod cache;
mod check;
pub mod fragment;
mod get;
mod put;
pub mod request;
mod select;

pub use cache::temp_root;
pub use put::PARAMS as PUT_PARAMS;
pub use request::{Request, Source, Version, SOURCE_FIELDS};

use crate::error::{Cause, Error, Result};
use crate::verdict::Verdict;
use serde::Serialize;
use std::io::{Read as _, Write as _};
use std::path::PathBuf;

/// One `{"name": ..., "value": ...}` entry; values are always strings.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MetadataEntry {
    pub name: String,
    pub value: String,
}

pub type Metadata = Vec<MetadataEntry>;

pub fn metadata_entry(name: &str, value: &str) -> MetadataEntry {
    MetadataEntry {
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// What `in` and `out` print.
#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub version: Version,
    pub metadata: Metadata,
}

/// The secrets of the request being served ([`request::secrets_in`]).
static HIDDEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// From now on [`log`] replaces each of `secrets` by `***`.
pub fn hide_in_log(secrets: Vec<String>) {
    let mut hidden = HIDDEN.lock().unwrap_or_else(|e| e.into_inner());
    *hidden = secrets;
}

/// `line` with every secret of the request replaced by `***`: a second
/// line of defence behind the messages themselves, which never quote a
/// secret.
pub fn scrub(line: &str) -> String {
    let hidden = HIDDEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = line.to_string();
    for secret in hidden.iter().filter(|s| !s.is_empty()) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// A line for the build log (stderr), without any secret of the request.
pub fn log(line: &str) {
    let line = scrub(line);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "sigtag: {line}");
}

/// A failure to talk to the remote, with the fields to look at, chosen by
/// its [`Cause`]. An error that already says what to do (in the source's
/// terms: the source's access names its URL `source.uri`) is left as it is.
pub fn remote_hint(source: &Source, e: Error) -> Error {
    if e.kind() != crate::error::ErrorKind::Remote || e.fix().is_some() {
        return e;
    }
    let credentials = if source.access.ssh_key_passphrase.is_some() {
        "source.private_key and source.private_key_passphrase"
    } else if source.access.ssh_key.is_some() {
        "source.private_key"
    } else if source.access.username.is_some() {
        "source.username and source.password"
    } else {
        "the credentials in source"
    };
    let hint = match e.cause() {
        Some(Cause::HostKey) => {
            "check source.known_hosts against ssh-keyscan of the server".to_string()
        }
        Some(Cause::Timeout) => "check source.uri, or raise source.network_timeout".to_string(),
        Some(Cause::Certificate) if source.uses_tls() => {
            "check source.uri and that the worker's CA certificates (/etc/ssl/certs) include the server's issuer".to_string()
        }
        Some(Cause::Authentication) => format!("check {credentials}"),
        _ => format!("check source.uri and {credentials}"),
    };
    e.with_fix(hint)
}

/// Before a step touches the network: logs every check the source turned
/// off (each step says so, every time), and bounds every network wait by
/// `limit` (the step's share of `source.network_timeout`).
pub fn prepare_network(source: &Source, limit: std::time::Duration) {
    if source.insecure_skip_host_key_check {
        log(&format!(
            "source.insecure_skip_host_key_check is true: the host key of {} is not checked, so anybody between this worker and the server can pose as it and withhold or replay tags",
            source.shown_uri()
        ));
    }
    if source.insecure_http_credentials {
        log(&format!(
            "source.insecure_http_credentials is true: the credentials for {} go over plain http://, where anybody on the way can read them",
            source.shown_uri()
        ));
    }
    crate::remote::limit_network_waits(limit);
}

/// How the resource names what a verdict was judged against: the
/// environment `source.environment` names (`prod`), else the rule itself,
/// quoted (`"2 of humans"`). Every message of `check`, `in` and `out`
/// names it this way.
pub fn rule_label(verdict: &Verdict) -> String {
    if verdict.environment == request::ENVIRONMENT {
        format!("\"{}\"", verdict.rule)
    } else {
        verdict.environment.clone()
    }
}

/// The one-line verdict for the resource's logs and metadata
/// ([`crate::render::line::line_for`] with [`rule_label`]):
/// `v1.4.0: yes for "2 of humans" (alice, bob)`.
pub fn verdict_line(verdict: &Verdict) -> String {
    crate::render::line::line_for(verdict, &rule_label(verdict))
}

/// For an emergency promotion: its metadata entry (`emergency`: "review
/// needs 1 more of humans other than alice by ...", "reviewed: meets 2
/// of humans", "review overdue since ...").
pub fn emergency_entry(verdict: &Verdict) -> Option<MetadataEntry> {
    let (_, review) = crate::render::line::emergency(verdict)?;
    Some(metadata_entry("emergency", &review))
}

/// For an emergency promotion: the line check logs about it.
pub fn emergency_line(verdict: &Verdict) -> Option<String> {
    let (word, review) = crate::render::line::emergency(verdict)?;
    Some(format!(
        "{}: promoted to {} as an {word}; {review}",
        request::shown(&verdict.tag),
        verdict.environment
    ))
}

/// Why a tag is not a version, for the log: the rejection, or what the rule
/// still needs and why signatures that are there did not count
/// ([`crate::render::line::reason`]): `does not meet "2 of humans": needs 1
/// more of humans other than alice; 1 signature not counted: ...`.
pub fn refused_reason(verdict: &Verdict) -> String {
    let why = crate::render::line::reason(verdict).unwrap_or_default();
    match &verdict.rejection {
        Some(_) => why,
        None => format!("does not meet {}: {why}", rule_label(verdict)),
    }
}

/// For each `tested` atom of a refused tag's rule that does not hold: what
/// each counted signer of its group tested instead, what the environment's
/// base is, and how to recover, one line each, worded as `sigtag explain`
/// words it: `v4: staging tested v2 -> v4 (from 1a2b3c4d5e6f); prod's base
/// is v3 (3c4d5e6f7a8b): stage prod's version v3 then v4 again`. Empty
/// for a satisfied or rejected tag.
pub fn tested_hints(verdict: &Verdict) -> Vec<String> {
    if verdict.satisfied || verdict.rejection.is_some() {
        return Vec::new();
    }
    let tag = &verdict.tag;
    let env = if verdict.environment == request::ENVIRONMENT {
        "this environment"
    } else {
        verdict.environment.as_str()
    };
    let mut out = Vec::new();
    let mut todo = vec![&verdict.evaluation];
    while let Some(eval) = todo.pop() {
        todo.extend(eval.children.iter().rev());
        let Some(t) = eval.tested.as_ref().filter(|_| !eval.holds) else {
            continue;
        };
        let words = crate::render::line::tested_words(env, tag, t, "->");
        for (signer, what) in &words.others {
            out.push(format!(
                "{tag}: {signer} {what}; {}: {}",
                words.base, words.fix
            ));
        }
    }
    out
}

/// `check`: the request on stdin, versions on stdout.
pub fn check_main() -> i32 {
    run(|request| check::run(request).map(serde_json::to_value))
}

/// `in DEST`.
pub fn in_main() -> i32 {
    let dest = match destination("in", "the destination directory") {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    run(|request| get::run(request, &dest).map(serde_json::to_value))
}

/// `out SOURCES`.
pub fn out_main() -> i32 {
    let dir = match destination("out", "the directory holding the build's artifacts") {
        Ok(d) => d,
        Err(e) => return fail(&e),
    };
    run(|request| put::run(request, &dir).map(serde_json::to_value))
}

/// When the program was started as `check`, `in` or `out` (a link to
/// `sigtag`, as in the image), runs that role and returns its exit status.
pub fn main_by_name() -> Option<i32> {
    let argv0 = std::env::args_os().next()?;
    let name = std::path::Path::new(&argv0)
        .file_name()?
        .to_str()?
        .to_string();
    match name.as_str() {
        "check" => Some(check_main()),
        "in" => Some(in_main()),
        "out" => Some(out_main()),
        _ => None,
    }
}

fn destination(role: &str, what: &str) -> Result<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next()) {
        (Some(dir), None) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Err(Error::usage(format!(
            "{role} takes one argument, {what}; Concourse passes it"
        ))),
    }
}

/// A URI that does not use TLS does not need the CA bundle.
fn skip_ca_bundle(source: &Source) {
    if !source.uses_tls() {
        crate::remote::skip_ca_bundle();
    }
}

fn fail(e: &Error) -> i32 {
    log(&e.to_string());
    e.exit_code()
}

fn run(f: impl FnOnce(Request) -> Result<serde_json::Result<serde_json::Value>>) -> i32 {
    let mut input = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(request::MAX_REQUEST as u64 + 1)
        .read_to_end(&mut input);
    if let Err(e) = read {
        return fail(&Error::io(format!("cannot read the request on stdin: {e}")));
    }
    let result = request::parse(&input).and_then(|request| {
        skip_ca_bundle(&request.source);
        f(request)
    });
    // The request may hold secrets; do not keep it around longer than needed.
    input.iter_mut().for_each(|b| *b = 0);
    match result {
        Ok(Ok(value)) => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{value}").and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) => fail(&Error::io(format!("cannot write to stdout: {e}"))),
            }
        }
        Ok(Err(e)) => fail(&Error::io(format!("cannot encode the output: {e}"))),
        Err(e) => fail(&e),
    }
}
