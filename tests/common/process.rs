//! Running a program with its stdin fed from memory and its output
//! captured.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A test's own directory under /tmp (removed when dropped) and its path.
pub fn test_dir(prefix: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .expect("tempdir");
    let root = dir.path().to_path_buf();
    (dir, root)
}

/// Exit code and output of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `cmd` with `input` on stdin (or stdin closed) and collects its
/// output whatever the exit status.
pub fn run_with_input(mut cmd: Command, input: Option<&[u8]>) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if let Some(data) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        // The program may refuse the input before reading all of it.
        let _ = stdin.write_all(data);
    }
    child.wait_with_output().expect("wait")
}

/// Panics with both outputs unless `out` is a success.
pub fn checked(what: &str, out: Output) -> Output {
    if !out.status.success() {
        panic!(
            "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Runs `cmd` (stdin fed `input`) under a small python3 wrapper that reads
/// getrusage(RUSAGE_CHILDREN) once it has exited; returns its output and
/// its peak resident set size in KiB (of the program and anything it ran).
/// With `clear_env` the program gets only the variables `cmd` sets (as
/// after `Command::env_clear`, which `Command` does not report).
pub fn peak_rss(cmd: &Command, input: Option<&[u8]>, clear_env: bool) -> (Output, u64) {
    let mut wrapped = Command::new("python3");
    wrapped.args([
        "-c",
        "import resource,subprocess,sys\n\
         r=subprocess.run(sys.argv[1:])\n\
         sys.stderr.write('\\npeak-rss-kib=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
         sys.exit(r.returncode)",
    ]);
    if clear_env {
        wrapped.args(["env", "-i"]);
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                let mut kv = k.to_os_string();
                kv.push("=");
                kv.push(v);
                wrapped.arg(kv);
            }
        }
    } else {
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => {
                    wrapped.env(k, v);
                }
                None => {
                    wrapped.env_remove(k);
                }
            }
        }
    }
    wrapped.arg(cmd.get_program()).args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    let mut out = run_with_input(wrapped, input);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let (rest, kib) = err
        .rsplit_once("\npeak-rss-kib=")
        .unwrap_or_else(|| panic!("no peak RSS from the wrapper: {err}"));
    let kib = kib.trim().parse().expect("peak RSS in KiB");
    out.stderr = rest.as_bytes().to_vec();
    (out, kib)
}
