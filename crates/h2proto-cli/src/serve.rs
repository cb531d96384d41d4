//! `h2proto serve`: an HTTP/2 server for a directory, or built-in test pages.
//!
//! Without DIR: a hello page at `/`, `/echo` (POST answers with the request body, streamed) and
//! `/bytes/N` (N bytes). With DIR: the files under it, never anything outside (paths are
//! canonicalized and must stay under the canonical root, so neither `..` nor a symlink escapes).
//! `--push` pushes the same-origin assets an HTML page links to (like `nghttpd -p`).

use bytes::Bytes;
use h2proto_tokio::{server, tls, BoxBody, Pusher, RecvBody, Server};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// The flags of `h2proto serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Directory to serve; without it, built-in pages (/, /echo, /bytes/N).
    pub dir: Option<PathBuf>,
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: String,
    /// Cleartext HTTP/2 (prior knowledge or Upgrade: h2c) instead of TLS.
    #[arg(long)]
    pub h2c: bool,
    /// PEM certificate chain (with --key); without both, a self-signed certificate is generated.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key (with --cert).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Push the CSS, JS and images an HTML page links to.
    #[arg(long)]
    pub push: bool,
    /// No request log (one line per request on stderr otherwise), as nghttpd without -v.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What every request handler shares.
struct Site {
    root: Option<PathBuf>,
    push: bool,
    resolved: ResolveCache,
    files: FileCache,
}

/// How long a resolved URL path is reused before it is resolved (canonicalized) again.
const RESOLVE_TTL: Duration = Duration::from_secs(1);
/// Entries kept at most; the cache is emptied when it is full (a flood of distinct paths).
const RESOLVE_MAX: usize = 4096;

/// URL path -> canonical file path, so that a busy file costs one `open` per request rather than
/// a `realpath` (one `lstat` per component) and two `stat`s. Entries expire after
/// [`RESOLVE_TTL`]: a file that is renamed or replaced by a symlink is seen within a second
/// (a window of the same kind as the one between resolving and opening, which always exists).
#[derive(Default)]
struct ResolveCache {
    /// `Arc<Path>`: a hit hands out the path without copying it (one allocation less per request).
    map: std::sync::Mutex<std::collections::HashMap<String, (Arc<Path>, Instant)>>,
}

impl ResolveCache {
    fn resolve(&self, root: &Path, url_path: &str) -> Option<Arc<Path>> {
        let now = Instant::now();
        if let Ok(map) = self.map.lock() {
            if let Some((path, at)) = map.get(url_path) {
                if now.duration_since(*at) < RESOLVE_TTL {
                    return Some(path.clone());
                }
            }
        }
        let path: Arc<Path> = resolve(root, url_path)?.into();
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= RESOLVE_MAX {
                map.clear();
            }
            map.insert(url_path.to_string(), (path.clone(), now));
        }
        Some(path)
    }
}

/// Runs the server until Ctrl-C. Every bad input is an `Err` with one line of explanation.
pub fn run(args: ServeArgs) -> Result<(), String> {
    let root = match &args.dir {
        Some(dir) => Some(check_dir(dir)?),
        None => None,
    };
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        format!(
            "invalid --listen address {:?} (expected ADDR:PORT)",
            args.listen
        )
    })?;
    let tls_config = if args.h2c {
        None
    } else {
        Some(tls_setup(&args, addr)?)
    };
    // One thread: a current-thread runtime (no work-stealing bookkeeping, no cross-thread wakeups).
    let mut builder = match args.threads {
        Some(0) => return Err("--threads must be at least 1".to_string()),
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    LOG_REQUESTS.store(!args.quiet, std::sync::atomic::Ordering::Relaxed);
    let site = Arc::new(Site {
        root,
        push: args.push,
        resolved: ResolveCache::default(),
        files: FileCache::default(),
    });
    runtime.block_on(async move {
        let listener = listen(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let scheme = if tls_config.is_some() {
            "https"
        } else {
            "http"
        };
        eprintln!("listening on {scheme}://{local}/");
        tokio::spawn(async {
            // Request log lines are written in batches; this writes out what a quiet period
            // leaves in the buffer.
            let mut tick = tokio::time::interval(LOG_FLUSH);
            loop {
                tick.tick().await;
                flush_log(false);
            }
        });
        let mut builder = Server::builder()
            .on_connection_error(|peer, e| match peer {
                Some(p) => eprintln!("connection from {p}: {e}"),
                None => eprintln!("connection: {e}"),
            })
            .handler(move |req| handle(site.clone(), req));
        if let Some(config) = tls_config {
            builder = builder.tls(config);
        }
        let server = builder.build();
        tokio::spawn(return_memory(server.clone()));
        let stopper = server.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("shutting down (GOAWAY), in-flight streams get 10 s");
                stopper.shutdown(Duration::from_secs(10));
            }
        });
        let result = server
            .serve(listener)
            .await
            .map_err(|e| format!("server failed: {e}"));
        flush_log(false);
        result
    })
}

/// How often [`return_memory`] looks at the connection count.
const TRIM_CHECK: Duration = Duration::from_secs(1);

/// Gives freed heap memory back to the system after a wave of connections has closed.
///
/// glibc's `malloc` keeps freed memory between live allocations resident, so a server that
/// held 10,000 connections would stay at that size after they closed. When the number of open
/// connections has halved (or reached zero) since the last check that saw more, this calls
/// `malloc_trim(0)`, which returns every free page. It runs at most once per [`TRIM_CHECK`] and
/// only after connections closed, so a steady load never pays for it.
async fn return_memory(server: Server) {
    let mut tick = tokio::time::interval(TRIM_CHECK);
    let mut peak = 0usize;
    loop {
        tick.tick().await;
        let open = server.open_connections();
        peak = peak.max(open);
        if peak > 0 && open <= peak / 2 {
            trim_heap();
            peak = open;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: malloc_trim only walks glibc's own heap structures, under its own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

/// Connections the kernel may hold for us before `accept`. `TcpListener::bind` asks for 128: a
/// burst of more new connections than that (h2load `-c 200`) overflows the accept queue, and every
/// SYN dropped costs its client a one-second retransmission timeout.
const LISTEN_BACKLOG: u32 = 1024;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

fn check_dir(dir: &Path) -> Result<PathBuf, String> {
    let root = dir
        .canonicalize()
        .map_err(|e| format!("cannot serve {}: {e}", dir.display()))?;
    if !root.is_dir() {
        return Err(format!("cannot serve {}: not a directory", dir.display()));
    }
    std::fs::read_dir(&root)
        .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?;
    Ok(root)
}

/// Loads --cert/--key, or generates a self-signed certificate and prints how to reach it.
fn tls_setup(
    args: &ServeArgs,
    addr: SocketAddr,
) -> Result<Arc<h2proto_tokio::rustls::ServerConfig>, String> {
    let cert = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => tls::CertKey::from_pem_files(cert, key)?,
        _ => {
            let (cert, _pem) = tls::CertKey::self_signed()?;
            let fingerprint = fingerprint(cert.chain[0].as_ref());
            let port = addr.port();
            eprintln!("generated a self-signed certificate for localhost and 127.0.0.1");
            eprintln!("  SHA-256 fingerprint: {fingerprint}");
            eprintln!("  URL: https://127.0.0.1:{port}/");
            eprintln!("  try: curl -k --http2 https://127.0.0.1:{port}/");
            cert
        }
    };
    tls::server_config(cert)
}

/// The SHA-256 fingerprint of a DER certificate, as colon-separated hex pairs.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

// ---------------------------------------------------------------- request handling

async fn handle(site: Arc<Site>, req: Request<RecvBody>) -> Response<BoxBody> {
    let pusher = match site.push {
        true => req.extensions().get::<Pusher>().cloned(),
        false => None,
    };
    if !LOG_REQUESTS.load(std::sync::atomic::Ordering::Relaxed) {
        return match &site.root {
            Some(root) => serve_file(root, &site, &req, pusher).await,
            None => builtin(req, pusher).await,
        };
    }
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = match &site.root {
        Some(root) => serve_file(root, &site, &req, pusher).await,
        None => builtin(req, pusher).await,
    };
    logged(method, path, resp, start)
}

async fn builtin(req: Request<RecvBody>, pusher: Option<Pusher>) -> Response<BoxBody> {
    let path = req.uri().path().to_string();
    match (req.method().clone(), path.as_str()) {
        (Method::GET | Method::HEAD, "/") => {
            if let Some(p) = pusher {
                push_asset(&p, "/style.css", css_response(req.method())).await;
            }
            html_response(req.method(), HELLO_PAGE)
        }
        (Method::GET | Method::HEAD, "/style.css") => css_response(req.method()),
        (Method::POST | Method::PUT, "/echo") => {
            // Streamed back as it arrives: flow control paces the client to our reading.
            let mut resp = Response::new(server::box_body(req.into_body()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            resp
        }
        (_, "/echo") => text(StatusCode::METHOD_NOT_ALLOWED, "POST a body to /echo\n"),
        (Method::GET | Method::HEAD, p) if p.starts_with("/bytes/") => {
            match p["/bytes/".len()..].parse::<u64>() {
                Ok(n) => {
                    let body = if req.method() == Method::HEAD { 0 } else { n };
                    let mut resp = Response::new(server::box_body(RepeatBody { remaining: body }));
                    let headers = resp.headers_mut();
                    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
                    headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    );
                    resp
                }
                Err(_) => text(StatusCode::BAD_REQUEST, "usage: /bytes/N with N a number\n"),
            }
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

const HELLO_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>h2proto</title>\
<link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body><h1>Hello from h2proto</h1>\n\
<p>Try <code>/bytes/1000000</code> or POST to <code>/echo</code>.</p></body></html>\n";

const STYLE_CSS: &str = "body { font-family: sans-serif; margin: 2em; }\n";

fn html_response(method: &Method, page: &'static str) -> Response<BoxBody> {
    fixed(
        method,
        "text/html; charset=utf-8",
        Bytes::from_static(page.as_bytes()),
    )
}

fn css_response(method: &Method) -> Response<BoxBody> {
    fixed(method, "text/css", Bytes::from_static(STYLE_CSS.as_bytes()))
}

fn fixed(method: &Method, content_type: &'static str, body: Bytes) -> Response<BoxBody> {
    let len = body.len();
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        body
    };
    let mut resp = Response::new(server::box_body(http_body_util::Full::new(body)));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

fn text(status: StatusCode, msg: &'static str) -> Response<BoxBody> {
    let mut resp = fixed(
        &Method::GET,
        "text/plain; charset=utf-8",
        Bytes::from_static(msg.as_bytes()),
    );
    *resp.status_mut() = status;
    resp
}

// ---------------------------------------------------------------- files

async fn serve_file(
    root: &Path,
    site: &Site,
    req: &Request<RecvBody>,
    pusher: Option<Pusher>,
) -> Response<BoxBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    let Some(path) = site.resolved.resolve(root, req.uri().path()) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let is_html = content_type(&path).starts_with("text/html");
    if is_html {
        if let Some(p) = &pusher {
            push_linked(root, req.uri().path(), &path, p).await;
        }
    }
    file_response(req.method(), &path, Some(&site.files)).await
}

/// Maps a URL path to a file under `root`: percent-decoded, canonicalized, and refused unless
/// still under the canonical root (this catches `..` and symlinks pointing outside).
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    if decoded.contains('\0') {
        return None;
    }
    let relative = decoded.trim_start_matches('/');
    let mut path = root.join(relative).canonicalize().ok()?;
    if !path.starts_with(root) {
        return None;
    }
    if path.is_dir() {
        path = path.join("index.html").canonicalize().ok()?;
        if !path.starts_with(root) {
            return None;
        }
    }
    path.is_file().then_some(path)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The content type for a file name extension (compared ignoring ASCII case, no allocation).
fn content_type(path: &Path) -> &'static str {
    const TYPES: &[(&str, &str)] = &[
        ("html", "text/html; charset=utf-8"),
        ("htm", "text/html; charset=utf-8"),
        ("css", "text/css"),
        ("js", "text/javascript"),
        ("mjs", "text/javascript"),
        ("json", "application/json"),
        ("txt", "text/plain; charset=utf-8"),
        ("md", "text/plain; charset=utf-8"),
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("gif", "image/gif"),
        ("svg", "image/svg+xml"),
        ("ico", "image/x-icon"),
        ("webp", "image/webp"),
        ("wasm", "application/wasm"),
        ("pdf", "application/pdf"),
        ("woff2", "font/woff2"),
    ];
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    TYPES
        .iter()
        .find(|(e, _)| e.eq_ignore_ascii_case(ext))
        .map_or("application/octet-stream", |(_, t)| t)
}

/// Files up to this size are read whole, in the handler, and kept in the [`FileCache`]: open,
/// fstat and a page-cache read take microseconds (about 100 µs for 1 MiB, once per change of
/// the file), far less than the blocking-pool round trips of `tokio::fs` (four per request, one
/// per 64 KiB chunk, and under load the pool grows to hundreds of threads). Larger files are
/// streamed from a reader task.
const SMALL_FILE: u64 = 1 << 20;

/// The contents of small files, reused while a file's size and modification time stay the same,
/// checked with one `stat` at most every [`RESOLVE_TTL`]: a busy file costs no system call at all
/// instead of `open`, `fstat`, `read` and `close` plus a copy (what nginx's `open_file_cache`
/// saves). A changed file is served within a second of the change.
#[derive(Default)]
struct FileCache {
    map: std::sync::Mutex<std::collections::HashMap<PathBuf, CachedFile>>,
}

struct CachedFile {
    modified: std::time::SystemTime,
    data: Bytes,
    /// The `content-length` value, made once: a hit then costs no formatting and no allocation.
    length: HeaderValue,
    checked: Instant,
}

/// Bytes of file contents kept at most; the cache is emptied when a new entry would pass it.
const FILE_CACHE_MAX: usize = 32 << 20;

impl FileCache {
    /// The cached contents if they were checked against the file less than [`RESOLVE_TTL`] ago.
    fn fresh(&self, path: &Path, now: Instant) -> Option<(Bytes, HeaderValue)> {
        let map = self.map.lock().ok()?;
        let entry = map.get(path)?;
        (now.duration_since(entry.checked) < RESOLVE_TTL)
            .then(|| (entry.data.clone(), entry.length.clone()))
    }

    /// The cached contents if the file still has their size and modification time.
    fn revalidate(
        &self,
        path: &Path,
        meta: &std::fs::Metadata,
        now: Instant,
    ) -> Option<(Bytes, HeaderValue)> {
        let modified = meta.modified().ok()?;
        let mut map = self.map.lock().ok()?;
        let entry = map.get_mut(path)?;
        if entry.modified != modified || entry.data.len() as u64 != meta.len() {
            return None;
        }
        entry.checked = now;
        Some((entry.data.clone(), entry.length.clone()))
    }

    fn put(&self, path: &Path, meta: &std::fs::Metadata, data: &Bytes) {
        let Ok(modified) = meta.modified() else {
            return;
        };
        if let Ok(mut map) = self.map.lock() {
            let held: usize = map.values().map(|f| f.data.len()).sum();
            if held + data.len() > FILE_CACHE_MAX || map.len() >= RESOLVE_MAX {
                map.clear();
            }
            map.insert(
                path.to_path_buf(),
                CachedFile {
                    modified,
                    data: data.clone(),
                    length: HeaderValue::from(data.len()),
                    checked: Instant::now(),
                },
            );
        }
    }
}

/// A response with the given body, content-type and content-length.
fn sized_response(body: BoxBody, path: &Path, len: u64) -> Response<BoxBody> {
    sized_response_with(body, path, HeaderValue::from(len))
}

fn sized_response_with(body: BoxBody, path: &Path, length: HeaderValue) -> Response<BoxBody> {
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CONTENT_LENGTH, length);
    resp
}

/// A file as a response with content-type and content-length.
async fn file_response(
    method: &Method,
    path: &Path,
    cache: Option<&FileCache>,
) -> Response<BoxBody> {
    if let Some(cache) = cache.filter(|_| method == Method::GET) {
        let now = Instant::now();
        let hit = cache.fresh(path, now).or_else(|| {
            let meta = std::fs::metadata(path).ok()?;
            cache.revalidate(path, &meta, now)
        });
        if let Some((data, length)) = hit {
            let body = server::box_body(http_body_util::Full::new(data));
            return sized_response_with(body, path, length);
        }
    }
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(_) => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read file\n"),
    };
    let len = meta.len();
    let body = if method == Method::HEAD {
        server::box_body(http_body_util::Empty::<Bytes>::new())
    } else if len <= SMALL_FILE {
        let mut buf = Vec::with_capacity(len as usize);
        match std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, len), &mut buf) {
            Ok(n) if n as u64 == len => {}
            _ => return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read file\n"),
        }
        let data = Bytes::from(buf);
        if let Some(cache) = cache {
            cache.put(path, &meta, &data);
        }
        server::box_body(http_body_util::Full::new(data))
    } else {
        server::box_body(file_body(tokio::fs::File::from_std(file)))
    };
    sized_response(body, path, len)
}

/// Reads the file in a task, a few chunks ahead of the connection.
fn file_body(mut file: tokio::fs::File) -> ChannelBody {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            let mut buf = vec![0u8; 64 << 10];
            match file.read(&mut buf).await {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.send(Ok(Bytes::from(buf))).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
    });
    ChannelBody { rx }
}

/// Pushes the same-origin CSS, JS and images an HTML file links to.
async fn push_linked(root: &Path, url_path: &str, file: &Path, pusher: &Pusher) {
    let Ok(html) = tokio::fs::read_to_string(file).await else {
        return;
    };
    // Relative links resolve against the page's directory; a directory served through its
    // index.html (`/docs` -> `/docs/index.html`) counts as that directory.
    let lower = url_path.to_ascii_lowercase();
    let dir_index = !url_path.ends_with('/')
        && !lower.ends_with(".html")
        && !lower.ends_with(".htm")
        && file.file_name().is_some_and(|n| n == "index.html");
    let base = if url_path.ends_with('/') {
        url_path.to_string()
    } else if dir_index {
        format!("{url_path}/")
    } else {
        url_path[..=url_path.rfind('/').unwrap_or(0)].to_string()
    };
    let mut seen = std::collections::HashSet::new();
    for link in asset_links(&html) {
        let target = if link.starts_with('/') {
            link.clone()
        } else {
            normalize(&format!("{base}{link}"))
        };
        if !seen.insert(target.clone()) {
            continue;
        }
        if let Some(path) = resolve(root, &target) {
            let resp = file_response(&Method::GET, &path, None).await;
            push_asset(pusher, &target, resp).await;
        }
    }
}

async fn push_asset(pusher: &Pusher, path: &str, resp: Response<BoxBody>) {
    let Ok(req) = Request::get(path).body(()) else {
        return;
    };
    // Pushed responses get their own log line, marked PUSH.
    let push = Method::from_bytes(b"PUSH").unwrap_or(Method::GET);
    let resp = logged(push, path.to_string(), resp, Instant::now());
    let _ = pusher.push(req, resp).await;
}

/// `src="..."` and `href="..."` values that are relative, same-origin links to assets.
pub fn asset_links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    for attr in ["src=", "href="] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(attr) {
            let start = from + pos + attr.len();
            from = start;
            let rest = &html[start..];
            let (value, _) = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                    Some(end) => (&rest[1..1 + end], ()),
                    None => continue,
                },
                _ => continue,
            };
            let value = value.split(['?', '#']).next().unwrap_or("");
            let remote = value.contains("://") || value.starts_with("//");
            let other =
                value.starts_with("data:") || value.starts_with("mailto:") || value.is_empty();
            let asset = matches!(
                extension(Path::new(value)).as_str(),
                "css" | "js" | "mjs" | "png" | "jpg" | "jpeg" | "gif" | "svg" | "ico" | "webp"
            );
            if !remote && !other && asset {
                out.push(value.to_string());
            }
        }
    }
    out
}

/// Resolves `.` and `..` segments of an absolute URL path (never above `/`).
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

// ---------------------------------------------------------------- bodies

/// `remaining` bytes of a repeating pattern, in 16 KiB frames.
struct RepeatBody {
    remaining: u64,
}

impl Body for RepeatBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        static CHUNK: [u8; 16384] = [b'x'; 16384];
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let n = self.remaining.min(CHUNK.len() as u64) as usize;
        self.remaining -= n as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK[..n])))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A body fed by a channel of chunks.
struct ChannelBody {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

/// Wraps a response so that one line is logged to stderr when its body ends (or is dropped):
/// method, path, status, body bytes sent and duration.
fn logged(
    method: Method,
    path: String,
    resp: Response<BoxBody>,
    start: Instant,
) -> Response<BoxBody> {
    if !LOG_REQUESTS.load(std::sync::atomic::Ordering::Relaxed) {
        return resp;
    }
    let status = resp.status().as_u16();
    resp.map(|body| {
        server::box_body(LoggedBody {
            inner: body,
            bytes: 0,
            start,
            method,
            path,
            status,
        })
    })
}

struct LoggedBody {
    inner: BoxBody,
    bytes: u64,
    start: Instant,
    method: Method,
    path: String,
    status: u16,
}

impl Body for LoggedBody {
    type Data = Bytes;
    type Error = h2proto_tokio::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.bytes += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for LoggedBody {
    fn drop(&mut self) {
        use std::fmt::Write as _;
        // Tenths of a millisecond, rounded, in integers (float formatting is slow).
        let tenths = (self.start.elapsed().as_micros() + 50) / 100;
        if let Ok(mut log) = LOG.lock() {
            let _ = writeln!(
                log.buf,
                "{} {} {} {} bytes {}.{} ms",
                self.method,
                self.path,
                self.status,
                self.bytes,
                tenths / 10,
                tenths % 10
            );
        }
        flush_log(true);
    }
}

/// Whether requests are logged (`--quiet` turns it off).
static LOG_REQUESTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Request log lines waiting to be written to stderr.
struct LogBuf {
    buf: String,
    last_flush: Option<Instant>,
}

static LOG: std::sync::Mutex<LogBuf> = std::sync::Mutex::new(LogBuf {
    buf: String::new(),
    last_flush: None,
});

/// How long a log line may wait in the buffer (the flush task's period).
const LOG_FLUSH: Duration = Duration::from_millis(100);
/// Write out at once beyond this much buffered log.
const LOG_BATCH: usize = 16 << 10;

/// Writes the buffered log lines to stderr: always when `lazy` is false, else only when the
/// buffer is large or the last write is older than [`LOG_FLUSH`] (one `write` per batch of
/// requests instead of one per request).
fn flush_log(lazy: bool) {
    use std::io::Write as _;
    let Ok(mut log) = LOG.lock() else { return };
    if log.buf.is_empty() {
        return;
    }
    let now = Instant::now();
    let due = match log.last_flush {
        Some(t) => now.duration_since(t) >= LOG_FLUSH,
        None => true,
    };
    if lazy && log.buf.len() < LOG_BATCH && !due {
        return;
    }
    let _ = std::io::stderr().lock().write_all(log.buf.as_bytes());
    log.buf.clear();
    log.last_flush = Some(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found() {
        let html = r#"<link href="a.css"><script src='/js/b.js'></script><img src="http://x/y.png">
            <a href="page.html">p</a><img src="../img/c.png?v=1">"#;
        assert_eq!(asset_links(html), vec!["/js/b.js", "../img/c.png", "a.css"]);
        assert_eq!(normalize("/docs/../img/c.png"), "/img/c.png");
        assert_eq!(normalize("/../../etc/passwd"), "/etc/passwd");
    }

    #[test]
    fn file_cache_notices_changes() {
        let dir = std::env::temp_dir().join(format!("h2proto-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.txt");
        std::fs::write(&path, "one").unwrap();
        let cache = FileCache::default();
        let meta = std::fs::metadata(&path).unwrap();
        let now = Instant::now();
        cache.put(&path, &meta, &Bytes::from_static(b"one"));
        let (data, length) = cache.fresh(&path, now).unwrap();
        assert_eq!(&data[..], b"one");
        assert_eq!(length, "3", "the cached content-length value");
        // Past the check interval the file is compared again: a new size is a miss.
        let later = now + 2 * RESOLVE_TTL;
        assert!(cache.fresh(&path, later).is_none());
        std::fs::write(&path, "three").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert!(cache.revalidate(&path, &meta, later).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn resolve_stays_inside_root() {
        let dir = std::env::temp_dir().join(format!("h2proto-serve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/index.html"), "hi").unwrap();
        let root = dir.canonicalize().unwrap();
        assert!(resolve(&root, "/sub/").is_some());
        assert!(resolve(&root, "/sub").is_some());
        assert!(resolve(&root, "/../../etc/passwd").is_none());
        assert!(resolve(&root, "/%2e%2e/%2e%2e/etc/passwd").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
