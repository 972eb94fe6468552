//! Real git servers on loopback, started by a test and stopped when it
//! ends: `git daemon` (git://), `git http-backend` behind a small CGI
//! server with basic authentication (http://), and Debian's sshd with key
//! authentication (ssh://).

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening on {port}: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not listen on port {port}");
}

/// git's exec path (`git --exec-path`), where its programs live.
pub fn exec_path() -> PathBuf {
    let out = Command::new("git")
        .arg("--exec-path")
        .output()
        .expect("git --exec-path");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// `git daemon` serving every repository under a directory, push enabled.
pub struct GitDaemon {
    child: Child,
    pub port: u16,
}

impl GitDaemon {
    pub fn start(base: &Path) -> GitDaemon {
        let port = free_port();
        // The git-daemon program itself: `git daemon` would run it as a
        // child that outlives a kill of the `git` wrapper.
        let mut child = Command::new(exec_path().join("git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--informative-errors",
                "--listen=127.0.0.1",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start git daemon");
        wait_for_port(port, "git daemon", &mut child);
        GitDaemon { child, port }
    }

    /// The git:// URL of a repository under the base path.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A listener on 127.0.0.1 whose thread hands every connection to a
/// handler until it is dropped.
struct Acceptor {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Acceptor {
    fn start(mut handle: impl FnMut(TcpStream) + Send + 'static) -> Acceptor {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    handle(conn);
                }
            }
        });
        Acceptor {
            port,
            stop,
            accept: Some(accept),
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// An HTTP server on loopback that asks for basic authentication and hands
/// every authenticated request to `git http-backend` (CGI).
pub struct HttpServer {
    pub port: u16,
    _acceptor: Acceptor,
    /// `METHOD PATH -> STATUS` of every request, for assertions.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    pub fn start(project_root: &Path, user: &str, password: &str) -> HttpServer {
        let log = Arc::new(Mutex::new(Vec::new()));
        let backend = exec_path().join("git-http-backend");
        assert!(backend.exists(), "{} is missing", backend.display());
        let expected = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
        let root = project_root.to_path_buf();
        let (log2, user) = (log.clone(), user.to_string());
        let acceptor = Acceptor::start(move |conn| {
            let (backend, root, expected, user, log) = (
                backend.clone(),
                root.clone(),
                expected.clone(),
                user.clone(),
                log2.clone(),
            );
            std::thread::spawn(move || {
                let _ = serve(conn, &backend, &root, &expected, &user, &log);
            });
        });
        HttpServer {
            port: acceptor.port,
            _acceptor: acceptor,
            log,
        }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

/// The headers of an HTTP request, names in lower case, up to the blank
/// line (or the end of the input).
fn read_headers(reader: &mut impl BufRead) -> std::io::Result<HashMap<String, String>> {
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    Ok(headers)
}

fn serve(
    conn: TcpStream,
    backend: &Path,
    root: &Path,
    expected_auth: &str,
    user: &str,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let (method, target) = (method.to_string(), target.to_string());
    let headers = read_headers(&mut reader)?;
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                let _ = reader.read_line(&mut end);
                break;
            }
            let mut chunk = vec![0; n];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = headers.get("content-length") {
        let n: usize = len.parse().unwrap_or(0);
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));

    if headers.get("authorization").map(String::as_str) != Some(expected_auth) {
        log.lock().unwrap().push(format!("{method} {path} -> 401"));
        let msg = "authentication required\n";
        write!(
            writer,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        )?;
        return writer.flush();
    }

    let mut cmd = Command::new(backend);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root)
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REMOTE_USER", user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string());
    if let Some(ct) = headers.get("content-type") {
        cmd.env("CONTENT_TYPE", ct);
    }
    if let Some(ce) = headers.get("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", ce);
    }
    if let Some(gp) = headers.get("git-protocol") {
        cmd.env("GIT_PROTOCOL", gp);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out)?;
    let _ = feeder.join();
    let _ = child.wait();

    // CGI output: headers, a blank line, the body.
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, payload) = match split {
        Some((i, n)) => (
            String::from_utf8_lossy(&out[..i]).into_owned(),
            &out[i + n..],
        ),
        None => (String::new(), &out[..]),
    };
    let mut status = "200 OK".to_string();
    let mut response_headers = String::new();
    for h in head.lines() {
        let h = h.trim_end();
        if let Some(s) = h.strip_prefix("Status:") {
            status = s.trim().to_string();
        } else if !h.is_empty() {
            response_headers.push_str(h);
            response_headers.push_str("\r\n");
        }
    }
    log.lock().unwrap().push(format!(
        "{method} {path} -> {}",
        status.split(' ').next().unwrap_or("")
    ));
    write!(
        writer,
        "HTTP/1.1 {status}\r\n{response_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        payload.len()
    )?;
    writer.write_all(payload)?;
    writer.flush()
}

/// Debian's sshd on loopback: one host key (pinned by the test), one
/// authorized client key.
pub struct SshServer {
    child: Child,
    pub port: u16,
    pub user: String,
    /// The client's private key (OpenSSH format), for source.private_key.
    pub client_key: String,
    /// `[127.0.0.1]:PORT ssh-ed25519 AAAA...`, as ssh-keyscan prints it.
    pub known_hosts: String,
    authorized: PathBuf,
}

pub const SSHD: &str = "/usr/sbin/sshd";

impl SshServer {
    pub fn start(dir: &Path) -> SshServer {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: apt-get install -y openssh-server"
        );
        fs::create_dir_all(dir).unwrap();
        let keygen = |file: &str| {
            let path = dir.join(file);
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", file, "-f"])
                .arg(&path)
                .stdin(Stdio::null())
                .output()
                .expect("ssh-keygen");
            assert!(out.status.success(), "ssh-keygen: {out:?}");
            path
        };
        let host = keygen("host_key");
        let client = keygen("client_key");
        let authorized = dir.join("authorized_keys");
        fs::copy(client.with_extension("pub"), &authorized).unwrap();
        fs::set_permissions(&authorized, fs::Permissions::from_mode(0o600)).unwrap();
        // sshd's privilege separation directory.
        let _ = fs::create_dir_all("/run/sshd");
        let port = free_port();
        let config = dir.join("sshd_config");
        fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nPidFile {}\n\
                 LogLevel VERBOSE\n",
                host.display(),
                authorized.display(),
                dir.join("sshd.pid").display()
            ),
        )
        .unwrap();
        let log = fs::File::create(dir.join("sshd.log")).unwrap();
        let mut child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        wait_for_port(port, "sshd", &mut child);
        let user = String::from_utf8(
            Command::new("id")
                .arg("-un")
                .output()
                .expect("id -un")
                .stdout,
        )
        .unwrap()
        .trim()
        .to_string();
        let host_pub = fs::read_to_string(host.with_extension("pub")).unwrap();
        let mut fields = host_pub.split_whitespace();
        let known_hosts = format!(
            "[127.0.0.1]:{port} {} {}\n",
            fields.next().unwrap(),
            fields.next().unwrap()
        );
        SshServer {
            child,
            port,
            user,
            client_key: fs::read_to_string(&client).unwrap(),
            known_hosts,
            authorized,
        }
    }

    /// Accepts one more client public key (`ssh-ed25519 AAAA...`).
    pub fn authorize(&self, public_key: &str) {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&self.authorized)
            .unwrap();
        writeln!(f, "{}", public_key.trim()).unwrap();
    }

    pub fn url(&self, path: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            path.display()
        )
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TLS terminator on loopback in front of another local port (python3's
/// ssl module), with a self-signed certificate for 127.0.0.1 that a client
/// trusts through SSL_CERT_FILE.
pub struct TlsProxy {
    child: Child,
    pub port: u16,
    /// The certificate, to be trusted as a CA.
    pub cert: PathBuf,
}

const TLS_PROXY: &str = r#"
import socket, ssl, sys, threading
cert, key, backend = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(srv.getsockname()[1], flush=True)

def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except Exception:
        pass

def handle(conn):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except Exception:
        conn.close()
        return
    up = socket.create_connection(("127.0.0.1", backend))
    t = threading.Thread(target=pipe, args=(tls, up), daemon=True)
    t.start()
    pipe(up, tls)
    for s in (tls, up):
        try:
            s.close()
        except Exception:
            pass

while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;

impl TlsProxy {
    pub fn start(dir: &Path, backend_port: u16) -> TlsProxy {
        fs::create_dir_all(dir).unwrap();
        let cert = dir.join("cert.pem");
        let key = dir.join("key.pem");
        let out = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output()
            .expect("openssl req");
        assert!(out.status.success(), "openssl req: {out:?}");
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(TLS_PROXY)
            .arg(&cert)
            .arg(&key)
            .arg(backend_port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 (the TLS proxy)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().expect("the proxy's port");
        wait_for_port(port, "the TLS proxy", &mut child);
        TlsProxy { child, port, cert }
    }

    pub fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a [`TrapServer`] does with every request.
#[derive(Clone)]
pub enum Trap {
    /// `302 Found` to this base URL followed by the request's own path and
    /// query (`http://localhost:PORT` + `/app.git/info/refs?...`).
    Redirect(String),
    /// `401 Unauthorized` asking for basic authentication.
    Challenge,
}

/// `(METHOD PATH, Authorization header)` of every request a
/// [`TrapServer`] received.
pub type Requests = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// An HTTP server on 127.0.0.1 that serves no repository: it redirects or
/// asks for credentials, and records every request with the
/// Authorization header it carried.
pub struct TrapServer {
    pub port: u16,
    _acceptor: Acceptor,
    pub requests: Requests,
}

impl TrapServer {
    pub fn start(trap: Trap) -> TrapServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let requests2 = requests.clone();
        let acceptor = Acceptor::start(move |conn| {
            let (trap, requests) = (trap.clone(), requests2.clone());
            std::thread::spawn(move || {
                let _ = serve_trap(conn, &trap, &requests);
            });
        });
        TrapServer {
            port: acceptor.port,
            _acceptor: acceptor,
            requests,
        }
    }

    /// The Authorization headers it received.
    pub fn authorizations(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, a)| a.clone())
            .collect()
    }
}

fn serve_trap(
    conn: TcpStream,
    trap: &Trap,
    requests: &Mutex<Vec<(String, Option<String>)>>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return Ok(());
        };
        let (method, target) = (method.to_string(), target.to_string());
        let headers = read_headers(&mut reader)?;
        let authorization = headers.get("authorization").cloned();
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        requests
            .lock()
            .unwrap()
            .push((format!("{method} {target}"), authorization));
        let msg = "no repository here\n";
        match trap {
            Trap::Redirect(base) => write!(
                writer,
                "HTTP/1.1 302 Found\r\nLocation: {base}{target}\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\n\r\n{msg}",
                msg.len()
            )?,
            Trap::Challenge => write!(
                writer,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
                 Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{msg}",
                msg.len()
            )?,
        }
        writer.flush()?;
    }
}

/// A TCP listener on 127.0.0.1 that accepts every connection and never
/// says a word: a server that hangs.
pub struct SilentServer {
    pub port: u16,
    _acceptor: Acceptor,
    /// How many connections it accepted.
    pub accepted: Arc<Mutex<usize>>,
}

impl SilentServer {
    pub fn start() -> SilentServer {
        let accepted = Arc::new(Mutex::new(0));
        let accepted2 = accepted.clone();
        // Held open, unread and unanswered, until the server stops.
        let mut held = Vec::new();
        let acceptor = Acceptor::start(move |conn| {
            *accepted2.lock().unwrap() += 1;
            held.push(conn);
        });
        SilentServer {
            port: acceptor.port,
            _acceptor: acceptor,
            accepted,
        }
    }
}
