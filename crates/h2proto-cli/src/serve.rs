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
}

/// What every request handler shares.
struct Site {
    root: Option<PathBuf>,
    push: bool,
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
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        if n == 0 {
            return Err("--threads must be at least 1".to_string());
        }
        builder.worker_threads(n);
    }
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let site = Arc::new(Site {
        root,
        push: args.push,
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let scheme = if tls_config.is_some() {
            "https"
        } else {
            "http"
        };
        eprintln!("listening on {scheme}://{local}/");
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
        let stopper = server.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("shutting down (GOAWAY), in-flight streams get 10 s");
                stopper.shutdown(Duration::from_secs(10));
            }
        });
        server
            .serve(listener)
            .await
            .map_err(|e| format!("server failed: {e}"))
    })
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
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let pusher = req.extensions().get::<Pusher>().cloned();
    let resp = match &site.root {
        Some(root) => serve_file(root, &req, pusher.filter(|_| site.push)).await,
        None => builtin(req, pusher.filter(|_| site.push)).await,
    };
    logged(method.as_str(), &path, resp, start)
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
    req: &Request<RecvBody>,
    pusher: Option<Pusher>,
) -> Response<BoxBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    let Some(path) = resolve(root, req.uri().path()) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let is_html = matches!(extension(&path).as_str(), "html" | "htm");
    if is_html {
        if let Some(p) = &pusher {
            push_linked(root, req.uri().path(), &path, p).await;
        }
    }
    file_response(req.method(), &path).await
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

fn content_type(path: &Path) -> &'static str {
    match extension(path).as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "json" => "application/json",
        "txt" | "md" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// A file as a streamed response with content-type and content-length.
async fn file_response(method: &Method, path: &Path) -> Response<BoxBody> {
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(_) => return text(StatusCode::NOT_FOUND, "not found\n"),
    };
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read file\n"),
    };
    let body = if method == Method::HEAD {
        server::box_body(http_body_util::Empty::<Bytes>::new())
    } else {
        server::box_body(file_body(file))
    };
    let mut resp = Response::new(body);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
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
            let resp = file_response(&Method::GET, &path).await;
            push_asset(pusher, &target, resp).await;
        }
    }
}

async fn push_asset(pusher: &Pusher, path: &str, resp: Response<BoxBody>) {
    let Ok(req) = Request::get(path).body(()) else {
        return;
    };
    // Pushed responses get their own log line, marked PUSH.
    let resp = logged("PUSH", path, resp, Instant::now());
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
fn logged(method: &str, path: &str, resp: Response<BoxBody>, start: Instant) -> Response<BoxBody> {
    let status = resp.status().as_u16();
    let line = format!("{method} {path} {status}");
    resp.map(|body| {
        server::box_body(LoggedBody {
            inner: body,
            bytes: 0,
            start,
            line,
        })
    })
}

struct LoggedBody {
    inner: BoxBody,
    bytes: u64,
    start: Instant,
    line: String,
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
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        eprintln!("{} {} bytes {:.1} ms", self.line, self.bytes, ms);
    }
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
